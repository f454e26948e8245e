import type { GitHubStub, StubRequest } from "../fixtures/github-stub.js";
import { startStub } from "./harness.js";

/** A comment as the stub keeps it: what GET .../issues/:n/comments lists after a POST. */
export interface StoredComment {
  id: number;
  body: string;
  created_at: string;
  updated_at: string;
  user: { login: string; type: string };
}

/** A pull request as the stub keeps it. */
export interface StoredPull {
  number: number;
  head: string;
  base: string;
  html_url: string;
  state: "open";
}

/** Called before the stub answers (after it stored what a POST created): a test kills the server here. */
export type StubHook = (req: StubRequest) => void | Promise<void>;

/** The GitHub API stub of `startStub`, keeping comments and pull requests like GitHub does. */
export interface StatefulStub {
  stub: GitHubStub;
  comments: Map<number, StoredComment[]>;
  pulls: StoredPull[];
  hooks: { permission?: StubHook; comment?: StubHook; pull?: StubHook };
  /** Comments on issue `n` whose body carries the hidden marker line of `marker` (prefix match). */
  marked(n: number, marker: string): StoredComment[];
}

/**
 * `startStub` with state: POSTed comments are listed by GET (honouring `since`), POSTed pulls by
 * GET /pulls?head=owner:branch; each of the three routes runs its hook before answering.
 */
export async function startStatefulStub(permissions: Record<string, string>): Promise<StatefulStub> {
  const stub = await startStub(permissions);
  const state: StatefulStub = {
    stub,
    comments: new Map(),
    pulls: [],
    hooks: {},
    marked: (n, marker) => (state.comments.get(n) ?? []).filter((c) => c.body.includes(`<!-- backlog-bot:${marker}`)),
  };
  let nextComment = 5000;
  let nextPull = 7;
  const permissionRoute = "GET /repos/:owner/:repo/collaborators/:user/permission";
  stub.route(permissionRoute, async (req) => {
    await state.hooks.permission?.(req);
    const role = permissions[req.params.user ?? ""] ?? "none";
    const permission = role === "maintain" ? "write" : role;
    return { body: { permission, role_name: role, user: { login: req.params.user } } };
  });
  stub.route("POST /repos/:owner/:repo/issues/:number/comments", async (req) => {
    const at = new Date().toISOString();
    const comment: StoredComment = {
      id: nextComment++,
      body: (req.body as { body: string }).body,
      created_at: at,
      updated_at: at,
      user: { login: "backlog-bot[bot]", type: "Bot" },
    };
    const n = Number(req.params.number);
    state.comments.set(n, [...(state.comments.get(n) ?? []), comment]);
    await state.hooks.comment?.(req);
    return { status: 201, body: comment };
  });
  stub.route("GET /repos/:owner/:repo/issues/:number/comments", (req) => {
    const since = req.query.get("since") ?? "";
    const trigger = { id: 3001, body: "/agent fix", created_at: "2026-11-21T10:00:00Z", updated_at: "2026-11-21T10:00:00Z" };
    const stored = state.comments.get(Number(req.params.number)) ?? [];
    return { body: [{ ...trigger, user: { login: "maintainer", type: "User" } }, ...stored].filter((c) => c.updated_at >= since) };
  });
  stub.route("GET /repos/:owner/:repo/pulls", (req) => {
    const head = req.query.get("head");
    return { body: state.pulls.filter((p) => !head || `${req.params.owner}:${p.head}` === head) };
  });
  stub.route("POST /repos/:owner/:repo/pulls", async (req) => {
    const body = req.body as { head: string; base: string };
    const number = nextPull++;
    const pull: StoredPull = {
      number,
      head: body.head,
      base: body.base,
      html_url: `https://github.com/${req.params.owner}/${req.params.repo}/pull/${number}`,
      state: "open",
    };
    state.pulls.push(pull);
    await state.hooks.pull?.(req);
    return { status: 201, body: { ...pull, draft: true } };
  });
  return state;
}
