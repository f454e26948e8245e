import type { DashboardAction } from "./types.js";

/** A checkbox list item and its hidden id: `- [ ] <!-- bb:start=12 -->`. */
const BOX = /^[ \t]*[-*+] \[([ xX])\] <!-- bb:(start|retry|dismiss|rescan)(?:=(\d{1,12}))? -->/gm;

/** The unticked checkbox for an action, as the render writes it. */
export function checkbox(kind: DashboardAction["kind"], id?: number): string {
  return `- [ ] <!-- bb:${kind}${id === undefined ? "" : `=${id}`} -->`;
}

function keyOf(kind: string, id: string | undefined): string {
  return id === undefined ? kind : `${kind}=${id}`;
}

function ticked(body: string): Set<string> {
  const keys = new Set<string>();
  for (const m of body.matchAll(BOX)) if (m[1] !== " ") keys.add(keyOf(m[2] as string, m[3]));
  return keys;
}

function toAction(key: string): DashboardAction | undefined {
  const [kind, raw] = key.split("=");
  const id = Number(raw);
  if (kind === "rescan") return { kind };
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  if (kind === "start" || kind === "dismiss") return { kind, findingId: id };
  if (kind === "retry") return { kind, taskId: id };
  return undefined;
}

/**
 * The actions an edit asks for: boxes ticked in `after` (the new body) that were not ticked in
 * `before` (the webhook's `changes.body.from`). Reading the edit itself, not a stored copy, means
 * two maintainers ticking different rows at once each count. Unticking asks for nothing. Pure;
 * the order is the order of the boxes in the body. Returns `[]` when `before` is undefined (the
 * body did not change).
 */
export function readTicks(before: string | undefined, after: string): DashboardAction[] {
  if (before === undefined) return [];
  const old = ticked(before);
  const actions: DashboardAction[] = [];
  for (const key of ticked(after)) {
    if (old.has(key)) continue;
    const action = toAction(key);
    if (action) actions.push(action);
  }
  return actions;
}

/**
 * `body` with the boxes of `actions` unticked again: how a tick by someone without write access
 * is reverted without touching the rest of the body. Pure.
 */
export function untick(body: string, actions: readonly DashboardAction[]): string {
  const keys = new Set(
    actions.map((a) => keyOf(a.kind, "findingId" in a ? String(a.findingId) : "taskId" in a ? String(a.taskId) : undefined)),
  );
  return body.replace(BOX, (line, _mark: string, kind: string, id: string | undefined) =>
    keys.has(keyOf(kind, id)) ? line.replace(/\[[xX]\]/, "[ ]") : line,
  );
}
