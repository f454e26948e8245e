import type { Octokit } from "@octokit/rest";
import { loadRepositoryConfig } from "../config/load.js";
import { DASHBOARD_MARKER, readTicks, untick } from "../dashboard/index.js";
import { cancelTask } from "../executor/requests.js";
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
import { findOpenTask } from "../store/tasks.js";
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

/** The issue of an `issues` webhook with its author. */
type AuthoredIssue = IssuePayload & { user?: { login: string; type?: string } | null };

/**
 * Whether an issue is this app's own dashboard issue, for when no number is recorded yet (made
 * before a crash could record it; the sync's marker search finds it): the marker is not enough,
 * since anyone can open an issue that starts with it; its author must be the app's bot account,
 * `<slug>[bot]`. The slug is asked only then (`GET /app`, with the app's JWT).
 */
async function isOwnDashboard(octokit: Octokit, issue: AuthoredIssue): Promise<boolean> {
  if (!(issue.body ?? "").startsWith(DASHBOARD_MARKER) || issue.user?.type !== "Bot") return false;
  const { data: app } = await octokit.rest.apps.getAuthenticated();
  return app?.slug !== undefined && issue.user.login === `${app.slug}[bot]`;
}

/**
 * `issues.*`: on the dashboard issue (the one recorded for the repository, or one the app's bot
 * opened with the marker), ticks become work (a writer's) or are reverted and answered once
 * (anyone else's); a writer closing it turns it off for good, anyone else's close is undone and
 * answered once. Any other issue, marker or not, is an ordinary issue: its findings follow at once
 * (`opened`, `edited`, `labeled`, `unlabeled`, `closed`, `reopened`), and a person's close stops
 * its task that has no pull request yet (queued or on its first run); a task whose pull request is
 * open, follow-up rounds included, stays for the PR's reviewers.
 * The dashboard is then asked to re-render (debounced).
 */
export const onIssues: Handler<IssuesEvent> = async (context, deps, log) => {
  const payload = context.payload as unknown as {
    action: IssuesAction;
    issue: AuthoredIssue;
    changes?: { body?: { from?: string } };
    sender: { login: string; type: string };
    repository: { id?: number; full_name: string; default_branch: string; clone_url: string };
    installation?: { id: number };
  };
  const { issue, repository: repo } = payload;
  if (issue.pull_request) return;
  const stored = await upsertRepository(deps.db, {
    fullName: repo.full_name,
    githubId: repo.id,
    installationId: payload.installation?.id ?? null,
    defaultBranch: repo.default_branch,
    cloneUrl: repo.clone_url,
  });
  const octokit = context.octokit as unknown as Octokit;
  const dashboard = await repositoryOfDashboard(deps.db, repo.full_name, issue.number);
  // The bot's own marker issue stands in only while no number is recorded (as the sync's marker search does).
  const isDashboard = dashboard !== undefined || (stored.dashboard_issue_number === null && (await isOwnDashboard(octokit, issue)));
  if (isDashboard) {
    const closing = payload.action === "closed" && payload.sender.type !== "Bot";
    if (!closing && payload.action !== "edited") return;
    const actions = closing ? [] : readTicks(payload.changes?.body?.from, issue.body ?? "");
    if (!closing && actions.length === 0) return;
    const config = await loadRepositoryConfig(context, deps.db, stored, log);
    const { owner, repo: name } = context.repo();
    const login = payload.sender.login;
    const permission = await checkWritePermission(octokit, { owner, repo: name }, login, payload.sender.type, config.allowedBots);
    if (closing) {
      // Closing the dashboard turns it off for good (syncDashboard leaves it closed): a writer's
      // decision, like a tick. Anyone else's close (triage may close issues) is undone.
      await recordAudit(deps.db, {
        actor: login,
        action: "dashboard.close",
        repository: repo.full_name,
        target: `issue#${issue.number}`,
        outcome: permission.allowed ? "ok" : "refused",
        ...(!permission.allowed && { detail: { reason: permission.reason } }),
      });
      if (permission.allowed) return void (await recordDashboard(deps.db, stored.id, { issueNumber: issue.number, hash: "closed" }));
      log.info({ login, role: permission.role }, "dashboard close refused");
      await octokit.rest.issues.update({ owner, repo: name, issue_number: issue.number, state: "open" });
      await commentOnce(octokit, {
        owner,
        repo: name,
        issueNumber: issue.number,
        marker: `dashboard-close-refused:${login}`,
        body: `@${login}, only people with write, maintain or admin permission on ${repo.full_name} can turn this dashboard off by closing it (${permission.reason}), so it was reopened.`,
      });
      return;
    }
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
    if (payload.action === "closed" && payload.sender.type !== "Bot") {
      // Fixed elsewhere or not wanted: the issue's task that has no pull request yet stops, rather
      // than open a PR that fixes a closed issue. A task whose PR is open (pr_open, or running a
      // follow-up round that its reviewers asked for) is left alone: the PR and its follow-ups are
      // its reviewers', who merge or close it.
      const task = await findOpenTask(deps.db, stored.id, { issueNumber: issue.number });
      if (task && task.pr_number === null) {
        const result = await cancelTask(deps.requests, task, payload.sender.login);
        log.info({ taskId: task.id, cancelled: result.ok }, "issue closed: its task is cancelled");
      }
    }
  }
  await requestDashboardSync(deps.requests.jobs, stored);
};
