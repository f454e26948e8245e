import type { FindingRow, Run } from "../../store/schema.js";
import type { TaskWithRepo } from "../queries.js";

/** Store rows → API shapes (camelCase, parsed JSON, no lease or internal columns). */
export function taskOut(t: TaskWithRepo) {
  return {
    id: t.id,
    repository: t.repository,
    findingId: t.finding_id,
    issueNumber: t.issue_number,
    title: t.title,
    state: t.state,
    agent: t.agent,
    branch: t.branch,
    prNumber: t.pr_number,
    prUrl: t.pr_url,
    requestedBy: t.requested_by,
    trigger: t.trigger,
    attempts: Number(t.attempts),
    error: t.error,
    createdAt: t.created_at,
    updatedAt: t.updated_at,
  };
}

export function runOut(r: Run) {
  return {
    id: r.id,
    taskId: r.task_id,
    agent: r.agent,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    exitCode: r.exit_code,
    outcome: r.outcome,
    summary: r.summary,
    turns: r.turns,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    costUsd: r.cost_usd,
    verification: r.verification,
    diffStat: r.diff_stat,
    error: r.error,
  };
}

export function findingOut(f: FindingRow, repository: string) {
  let signals: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(f.signals);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) signals = parsed as Record<string, unknown>;
  } catch {
    // a row whose signals do not parse shows none
  }
  return {
    id: f.id,
    repository,
    kind: f.kind,
    fingerprint: f.fingerprint,
    title: f.title,
    body: f.body,
    path: f.path,
    line: f.line,
    url: f.url,
    issueNumber: f.issue_number,
    signals,
    firstSeenAt: f.first_seen_at,
    lastSeenAt: f.last_seen_at,
    resolvedAt: f.resolved_at,
    dismissedAt: f.dismissed_at,
  };
}

/** `{ items, nextCursor }` from `limit + 1` rows fetched newest first (the extra row says there is more). */
export function keysetPage<T extends { id: number }, O>(
  rows: T[],
  limit: number,
  map: (row: T) => O,
): { items: O[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  return { items: page.map(map), nextCursor: rows.length > limit ? String(page.at(-1)?.id) : null };
}
