import { open, realpath } from "node:fs/promises";
import path from "node:path";
import type { Octokit } from "@octokit/rest";

/** Repository files that tell coding agents how to work on the project, read in this order when present. */
export const INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md", "CONTRIBUTING.md"] as const;
/** Cap on each instruction file read (bytes): a prompt is not the place for a whole handbook. */
export const MAX_INSTRUCTION_FILE_BYTES = 8 * 1024;
/** Lines of code shown on each side of a TODO finding's line. */
export const FINDING_CONTEXT_LINES = 20;
/** Only the newest comments by people with write access are kept. */
const MAX_COMMENTS = 30;
/** Permissions that count as write access (`role_name` covers `maintain`, which `permission` reports as `write`). */
const WRITERS = new Set(["admin", "maintain", "write"]);

/** A comment by someone with write access. Its body is untrusted all the same. */
export interface FetchedComment {
  author: string;
  body: string;
}

/** Everything fetched for one prompt, raw (formatting sanitises it). */
export interface FetchedContext {
  issue?: { number: number; title: string; body: string };
  comments: FetchedComment[];
  /** Repository instruction files found in the worktree, each capped at MAX_INSTRUCTION_FILE_BYTES. */
  repositoryInstructions: Array<{ path: string; text: string; truncated: boolean }>;
  finding?: { path: string; line: number; title: string; startLine: number; code: string };
}

/** Caches "has write access" per login, for one repository; pass one in to share it across prompts. */
export type PermissionCache = Map<string, Promise<boolean>>;

/**
 * True when `login` has admin, maintain or write permission. A 404 (not a collaborator) is false.
 * @throws the Octokit RequestError of any other failure.
 */
async function canWrite(octokit: Octokit, owner: string, repo: string, login: string): Promise<boolean> {
  try {
    const { data } = await octokit.rest.repos.getCollaboratorPermissionLevel({ owner, repo, username: login });
    const role = (data as { role_name?: string }).role_name;
    return WRITERS.has(data.permission) || (role !== undefined && WRITERS.has(role));
  } catch (error) {
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}

/**
 * The issue's comments written by people with write access (bots excluded), oldest first, the newest
 * MAX_COMMENTS of them. Each distinct author's permission is asked once (cached in `cache`).
 * @throws the Octokit RequestError of a failed request.
 */
export async function fetchWriterComments(
  octokit: Octokit,
  owner: string,
  repo: string,
  issueNumber: number,
  cache: PermissionCache = new Map(),
): Promise<FetchedComment[]> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issueNumber, per_page: 100 });
  const kept: FetchedComment[] = [];
  for (const comment of comments) {
    const login = comment.user?.login;
    if (!login || comment.user?.type === "Bot" || !comment.body) continue;
    let allowed = cache.get(login);
    if (!allowed) {
      allowed = canWrite(octokit, owner, repo, login);
      cache.set(login, allowed);
    }
    if (await allowed) kept.push({ author: login, body: comment.body });
  }
  return kept.slice(-MAX_COMMENTS);
}

/**
 * Reads up to `maxBytes` of a file that really lies inside `root` (a symlink pointing out of the
 * worktree is refused), or undefined when it is absent or not a regular file.
 */
export async function readInside(
  root: string,
  relative: string,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean } | undefined> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(path.resolve(realRoot, relative));
    if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) return undefined;
    const handle = await open(real, "r");
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return undefined;
      const buffer = Buffer.alloc(Math.min(stat.size, maxBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return { text: buffer.subarray(0, bytesRead).toString("utf8"), truncated: stat.size > maxBytes };
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** The repository's own agent instructions present in the worktree. */
export async function fetchRepositoryInstructions(worktree: string): Promise<FetchedContext["repositoryInstructions"]> {
  const found: FetchedContext["repositoryInstructions"] = [];
  for (const file of INSTRUCTION_FILES) {
    const read = await readInside(worktree, file, MAX_INSTRUCTION_FILE_BYTES);
    if (read?.text.trim()) found.push({ path: file, ...read });
  }
  return found;
}

/** The code around a TODO finding: FINDING_CONTEXT_LINES lines each side of `line` (1-based). */
export async function fetchFindingContext(
  worktree: string,
  finding: { path: string; line: number; title: string },
): Promise<FetchedContext["finding"]> {
  const read = await readInside(worktree, finding.path, 1024 * 1024);
  if (!read) return { ...finding, startLine: finding.line, code: "" };
  const lines = read.text.split("\n");
  const startLine = Math.max(1, finding.line - FINDING_CONTEXT_LINES);
  const code = lines.slice(startLine - 1, finding.line + FINDING_CONTEXT_LINES).join("\n");
  return { ...finding, startLine, code };
}
