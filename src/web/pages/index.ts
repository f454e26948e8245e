import type { IncomingMessage, ServerResponse } from "node:http";
import { listAudit } from "../../store/audit.js";
import type { Viewer } from "../auth/access.js";
import type { WebDeps } from "../deps.js";
import { decodePathSegment, sendHtml, WebError } from "../http.js";
import { computeOutcomes, overviewFigures } from "../outcomes.js";
import {
  findRepository,
  getTaskInScope,
  listRepositorySummaries,
  listTasksPage,
  backlogPage as loadBacklog,
  readableIds,
} from "../queries.js";
import { readTranscript } from "../transcript.js";
import { auditPage } from "./audit.js";
import { backlogPage } from "./backlog.js";
import { layout } from "./layout.js";
import { outcomesPage } from "./outcomes.js";
import { overviewPage } from "./overview.js";
import { taskPage } from "./task.js";

/** Rows per backlog page. */
const BACKLOG_PAGE = 50;
const int = (value: string | null, fallback: number): number => (value && /^\d{1,9}$/.test(value) ? Number(value) : fallback);

/**
 * Renders the dashboard's pages for a known viewer: `/`, `/repos/{owner}/{name}`, `/tasks/{id}`,
 * `/outcomes`, `/audit`. Returns false for any other path.
 * @throws WebError 404 for a repository or task the viewer cannot read.
 */
export async function handlePage(req: IncomingMessage, res: ServerResponse, url: URL, deps: WebDeps, viewer: Viewer): Promise<boolean> {
  if (req.method !== "GET") return false;
  const csrf = viewer.kind === "user" ? viewer.session.csrf : "";
  const readable = await deps.access.readable(viewer);
  const scope = await readableIds(deps.db, readable);
  const now = deps.now?.() ?? new Date();
  const page = (title: string, body: Parameters<typeof layout>[2], script = false) =>
    sendHtml(res, 200, layout(title, viewer, body, { csrf, script }));
  const path = url.pathname;

  if (path === "/") {
    const [repositories, figures, active, outcomes] = await Promise.all([
      listRepositorySummaries(deps.db, scope),
      overviewFigures(deps.db, scope, now),
      Promise.all(["running", "queued", "pr_open"].map((state) => listTasksPage(deps.db, scope, { state: state as "running", limit: 20 }))),
      computeOutcomes(deps.db, scope, 12, now),
    ]);
    page("Overview", overviewPage({ repositories, active: active.flat(), ...figures, mergeRate: outcomes.mergeRate }));
    return true;
  }
  const repoMatch = /^\/repos\/([^/]+)\/([^/]+)$/.exec(path);
  if (repoMatch) {
    const fullName = `${decodePathSegment(repoMatch[1] ?? "")}/${decodePathSegment(repoMatch[2] ?? "")}`;
    const repo = await findRepository(deps.db, fullName, scope);
    if (!repo) throw new WebError(404, "not_found", `Repository ${fullName} was not found, or you cannot see it.`);
    const offset = int(url.searchParams.get("cursor"), 0);
    const { items, total } = await loadBacklog(deps.db, repo.id, { offset, limit: BACKLOG_PAGE, now });
    const canWrite = await deps.access.canWrite(viewer, repo);
    page(fullName, backlogPage({ repository: fullName, rows: items, total, offset, limit: BACKLOG_PAGE, canWrite, csrf }));
    return true;
  }
  const taskMatch = /^\/tasks\/(\d{1,9})$/.exec(path);
  if (taskMatch) {
    const found = await getTaskInScope(deps.db, Number(taskMatch[1]), scope);
    if (!found) throw new WebError(404, "not_found", `Task ${taskMatch[1]} was not found, or you cannot see it.`);
    const repo = await findRepository(deps.db, found.task.repository, scope);
    const canWrite = repo ? await deps.access.canWrite(viewer, repo) : false;
    const runs = await Promise.all(found.runs.map(async (run) => ({ run, transcript: await readTranscript(run.transcript_path) })));
    page(`Task #${found.task.id}`, taskPage({ task: found.task, runs, canWrite, csrf }), true);
    return true;
  }
  if (path === "/outcomes") {
    const weeks = Math.min(Math.max(int(url.searchParams.get("weeks"), 12), 1), 104);
    page("Outcomes", outcomesPage(await computeOutcomes(deps.db, scope, weeks, now), weeks));
    return true;
  }
  if (path === "/audit") {
    const before = url.searchParams.get("cursor");
    const { items, nextBefore } = await listAudit(deps.db, {
      repositories: readable === "all" ? undefined : [...readable],
      before: before ? int(before, 0) : undefined,
      limit: 100,
    });
    page("Audit log", auditPage(items, nextBefore));
    return true;
  }
  return false;
}
