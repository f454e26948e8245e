import type { Octokit } from "@octokit/rest";
import { loadRepositoryConfig } from "../config/load.js";
import { DASHBOARD_MARKER, readTicks, untick } from "../dashboard/index.js";
import { commentOnce } from "../github/comments.js";
import { type ApiIssue, issueSignals, toSnapshot } from "../scanners/issue-listing.js";
import { cleanLabel } from "../scanners/stale.js";
import { requestDashboardSync } from "../scheduler/dashboard.js";
import { recordAudit } from "../store/audit.js";
import { recordDashboard, repositoryOfDashboard } from "../store/dashboard.js";
import { now } from "../store/db.js";
import { syncFindings } from "../store/findings.js";
import { applyIssueListing } from "../store/issue-snapshots.js";
import { upsertRepository } from "../store/repositories.js";
import type { Repository } from "../store/schema.js";
import { applyTicks } from "./dashboard-ticks.js";
import { checkWritePermission } from "./guards.js";
import type { Handler, HandlerDeps } from "./types.js";

type IssuesAction = "opened" | "edited" | "labeled" | "unlabeled" | "closed" | "reopened";
type IssuesEvent = `issues.${IssuesAction}`;

/** The issue of an `issues` webhook: the REST fields plus its body. */
type IssuePayload = ApiIssue & { body?: string | null };

/**
 * Keeps the issue findings of one issue in step with GitHub at once, without waiting for a scan:
 * the snapshot the scanners share is updated; a closed issue's findings are resolved; an open one is
 * an `issue` finding while it carries one of `issues.labels`, and is not stale (it just changed).
 */
async function updateIssueFindings(deps: HandlerDeps, repository: Repository, issue: IssuePayload, labels: string[]): Promise<void> {
  const open = issue.state !== "closed";
  const snap = toSnapshot(issue);
  await applyIssueListing(deps.db, repository.id, { open: open ? [snap] : [], closed: open ? [] : [issue.number], replaceAll: false });
  const wanted = new Set(labels.map(cleanLabel));
  const labelled = open && snap.labels.some((l) => wanted.has(cleanLabel(l)));
  if (labelled) {
    const finding = {
      kind: "issue" as const,
      fingerprint: `issue:${issue.number}`,
      title: `${issue.title} (#${issue.number})`,
      url: issue.html_url,
      issueNumber: issue.number,
      signals: issueSignals(snap),
    };
    await syncFindings(deps.db, repository.id, [finding], { kinds: [] });
  }
  const gone = labelled ? ["stale_issue"] : ["stale_issue", "issue"];
  await deps.db
    .updateTable("findings")
    .set({ resolved_at: now() })
    .where("repository_id", "=", repository.id)
    .where("issue_number", "=", issue.number)
    .where("kind", "in", gone as ("stale_issue" | "issue")[])
    .where("resolved_at", "is", null)
    .execute();
}

/**
 * `issues.*`: on the dashboard issue, ticks become work (a writer's) or are reverted and answered
 * once (anyone else's); closing it is remembered so it stays closed. On any other issue, its
 * findings follow at once (`opened`, `edited`, `labeled`, `unlabeled`, `closed`, `reopened`).
 * The dashboard is then asked to re-render (debounced).
 */
export const onIssues: Handler<IssuesEvent> = async (context, deps, log) => {
  const payload = context.payload as unknown as {
    action: IssuesAction;
    issue: IssuePayload;
    changes?: { body?: { from?: string } };
    sender: { login: string; type: string };
    repository: { full_name: string; default_branch: string; clone_url: string };
    installation?: { id: number };
  };
  const { issue, repository: repo } = payload;
  if (issue.pull_request) return;
  const stored = await upsertRepository(deps.db, {
    fullName: repo.full_name,
    installationId: payload.installation?.id ?? null,
    defaultBranch: repo.default_branch,
    cloneUrl: repo.clone_url,
  });
  const dashboard = await repositoryOfDashboard(deps.db, repo.full_name, issue.number);
  const isDashboard = dashboard !== undefined || (issue.body ?? "").startsWith(DASHBOARD_MARKER);
  if (isDashboard) {
    if (payload.action === "closed" && payload.sender.type !== "Bot") {
      await recordDashboard(deps.db, stored.id, { issueNumber: issue.number, hash: "closed" });
      return;
    }
    if (payload.action !== "edited") return;
    const actions = readTicks(payload.changes?.body?.from, issue.body ?? "");
    if (actions.length === 0) return;
    const config = await loadRepositoryConfig(context, deps.db, stored, log);
    const octokit = context.octokit as unknown as Octokit;
    const { owner, repo: name } = context.repo();
    const login = payload.sender.login;
    const permission = await checkWritePermission(octokit, { owner, repo: name }, login, payload.sender.type, config.allowedBots);
    if (!permission.allowed) {
      log.info({ login, role: permission.role, actions: actions.length }, "dashboard tick refused");
      await recordAudit(deps.db, {
        actor: login,
        action: "dashboard.tick",
        repository: repo.full_name,
        target: `issue#${issue.number}`,
        outcome: "refused",
        detail: { reason: permission.reason, actions },
      });
      await octokit.rest.issues.update({ owner, repo: name, issue_number: issue.number, body: untick(issue.body ?? "", actions) });
      await commentOnce(octokit, {
        owner,
        repo: name,
        issueNumber: issue.number,
        marker: `dashboard-refused:${login}`,
        body: `@${login}, only people with write, maintain or admin permission on ${repo.full_name} can start, retry or dismiss work from this dashboard (${permission.reason}), so your tick was undone.`,
      });
      return;
    }
    const refusals = await applyTicks(deps, { repository: stored, config, login, actions, log });
    if (refusals.length > 0) {
      await commentOnce(octokit, {
        owner,
        repo: name,
        issueNumber: issue.number,
        marker: `delivery:${context.id}`,
        body: refusals.map((r) => `- ${r}`).join("\n"),
      });
    }
  } else {
    const config = await loadRepositoryConfig(context, deps.db, stored, log);
    await updateIssueFindings(deps, stored, issue, config.issues.labels);
  }
  await requestDashboardSync(deps.requests.jobs, stored);
};
