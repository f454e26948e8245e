import { lastValidConfig, loadConfig } from "../config/load.js";
import { reportConfigCheck } from "../config/notify.js";
import { CONFIG_PATH } from "../config/parse.js";
import { syncMirror } from "../git/workspace.js";
import { scanTodos } from "../scanners/todo.js";
import { attributionStore } from "../store/attribution.js";
import { type SyncSummary, syncFindings } from "../store/findings.js";
import { BacklogBotError } from "../util/errors.js";
import { attributesStale, refreshGitAttributes } from "./git-attributes.js";
import { type ScanReport, type ScanRepositoryOptions, scanRepository } from "./run-scan.js";

/**
 * GitHub lists at most 2,048 commits in a push payload
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads#push); at that count the list may be cut.
 */
export const MAX_PUSH_COMMITS = 2048;
/** Beyond this many touched files a whole-branch scan is cheaper than a long pathspec list. */
export const MAX_PUSH_PATHS = 3000;

/** What a push to the default branch asks the scheduler to do. */
export interface PushScan {
  repositoryId: number;
  /** The pushed commit (`after`). */
  after: string;
  /** Every path the push added, modified or removed: the scope whose TODOs the scan vouches for. */
  touched: string[];
  /** The touched paths that exist at `after`: the ones worth reading. */
  present: string[];
  /** Rescan the whole branch instead (force push, new branch, truncated commit list). */
  full: boolean;
  /** The push touched `.github/backlog-bot.yml`. */
  configChanged: boolean;
}

/** The push payload fields `planPush` reads. */
export interface PushPayloadLike {
  after: string;
  before: string;
  forced?: boolean;
  deleted?: boolean;
  commits?: { added?: string[]; modified?: string[]; removed?: string[] }[];
}

/**
 * The files a push changed, replaying its commits in order (a file removed and re-added ends present).
 * A force push or the branch's first push cannot be trusted to list what changed, so they ask for a full scan.
 */
export function planPush(repositoryId: number, payload: PushPayloadLike): PushScan {
  const state = new Map<string, boolean>();
  const commits = payload.commits ?? [];
  for (const commit of commits) {
    for (const p of [...(commit.added ?? []), ...(commit.modified ?? [])]) state.set(p, true);
    for (const p of commit.removed ?? []) state.set(p, false);
  }
  const touched = [...state.keys()].sort();
  const full =
    payload.forced === true || /^0+$/.test(payload.before) || commits.length >= MAX_PUSH_COMMITS || touched.length > MAX_PUSH_PATHS;
  return {
    repositoryId,
    after: payload.after,
    touched,
    present: touched.filter((p) => state.get(p)),
    full,
    configChanged: state.has(CONFIG_PATH),
  };
}

/** How to run a push scan: what any scan of the repository needs, plus the push. */
export interface PushScanOptions extends Omit<ScanRepositoryOptions, "only"> {
  push: PushScan;
}

/**
 * Acts on a push to the default branch: re-reads the config when the push changed it (reporting a
 * new error, or a fix, as a check run on the pushed commit), then rescans for TODOs only the files
 * the push touched, at the pushed commit, in the repository's mirror; a TODO a commit removed is
 * resolved at once; a push that changed `.gitattributes` (or the first push scan since none was
 * read) stores it again for the ranking. A full push scan runs the TODO scanner on the whole branch instead.
 * @throws CommandError when the mirror cannot be fetched; BacklogBotError `SCAN_FAILED` when a full push scan's TODO scanner failed.
 */
export async function scanPush(options: PushScanOptions): Promise<SyncSummary | ScanReport | undefined> {
  const { db, api, repository, log, push } = options;
  const [owner = "", repo = ""] = repository.full_name.split("/");
  let config = lastValidConfig(repository);
  if (push.configChanged) {
    const outcome = await loadConfig(api, db, repository, log, { cacheScope: options.cacheScope, ref: push.after });
    config = outcome.config;
    if (outcome.errorChanged) await reportConfigCheck(api, { owner, repo, headSha: push.after }, outcome.error);
  }
  if (!config.scanners.includes("todo")) return undefined;
  if (push.full) {
    const report = await scanRepository({ ...options, only: ["todo"] });
    // A scheduled scan logs a failed scanner and retries at its next slot; a push has no next slot.
    const todo = report.scanners.todo;
    if (todo && "error" in todo) throw new BacklogBotError("SCAN_FAILED", `the push scan of ${repository.full_name} failed: ${todo.error}`);
    return report;
  }
  if (push.touched.length === 0) return undefined;
  const token = await options.token();
  const mirror = await syncMirror({
    dataDir: options.dataDir,
    fullName: repository.full_name,
    cloneUrl: repository.clone_url ?? `https://github.com/${repository.full_name}.git`,
    defaultBranch: repository.default_branch,
    ...(token && { token }),
  });
  if (await attributesStale(db, repository.id, push.touched)) await refreshGitAttributes(db, repository, mirror, push.after, log);
  // An empty `paths` would mean "everything" to scanTodos: with only removals there is nothing to read.
  const result =
    push.present.length === 0
      ? undefined
      : await scanTodos({
          cwd: mirror,
          rev: push.after,
          paths: push.present,
          keywords: config.todo.keywords,
          exclude: config.todo.exclude,
          include: config.todo.include,
          cache: attributionStore(db, repository.id),
        });
  const summary = await syncFindings(db, repository.id, result?.findings ?? [], { kinds: ["todo"], paths: push.touched });
  const leftOut = result?.leftOut ? { leftOut: result.leftOut } : {};
  log.info({ after: push.after, files: push.touched.length, ...summary, ...leftOut }, "push scanned for TODOs");
  return summary;
}
