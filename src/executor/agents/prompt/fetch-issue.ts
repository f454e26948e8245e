import type { Octokit } from "@octokit/rest";
import { canWrite, type PermissionCache } from "./permissions.js";

/** Only the newest comments by people with write access are kept. */
const MAX_COMMENTS = 30;

/** A comment by someone with write access. Its body is untrusted all the same. */
export interface FetchedComment {
  author: string;
  body: string;
}

/**
 * When, and by which comment, a maintainer asked for the work. Content is taken as it was then.
 * `triggeredAt` is the ISO 8601 time of the `/agent fix` comment, the dashboard tick or the API
 * request (GitHub's timestamp where there is one); `triggerCommentId` is the REST id of the
 * triggering issue or pull-request conversation comment (`issue_comment` webhook), when one
 * triggered. Leave it out for other triggers: review and review-comment ids are another sequence.
 */
export interface Trigger {
  triggeredAt: string;
  triggerCommentId?: number | null;
}

/** An issue's title and body as of the trigger. `withheld` says why the body is not shown, when it is not. */
export interface IssueAtTrigger {
  number: number;
  title: string;
  body: string;
  withheld?: string;
}

/**
 * True when `time` is not known to be before the trigger. GitHub's times are whole seconds, so a
 * change in the trigger's own second counts as after it (claude-code-action does the same).
 */
const after = (time: string | null | undefined, trigger: string): boolean => !!time && Date.parse(time) >= Date.parse(trigger);

/**
 * Comments of people with write access (bots excluded), oldest first, the newest MAX_COMMENTS of
 * them, as of the trigger: the triggering comment itself (its words arrive as the maintainer's
 * instructions) and every comment created after it are left out. A kept comment edited after the
 * trigger keeps its text: only its author or another writer can edit it (GitHub's roles:
 * https://docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/managing-repository-roles/repository-roles-for-an-organization),
 * so no one without write access changed it. Works for pull requests too (their conversation).
 * @throws the Octokit RequestError of a failed request.
 */
export async function fetchWriterComments(
  octokit: Octokit,
  target: { owner: string; repo: string; number: number },
  trigger: Trigger,
  cache: PermissionCache = new Map(),
): Promise<FetchedComment[]> {
  const { owner, repo, number } = target;
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: number, per_page: 100 });
  const kept: FetchedComment[] = [];
  const triggerId = trigger.triggerCommentId ?? undefined;
  for (const comment of comments) {
    const login = comment.user?.login;
    if (!login || comment.user?.type === "Bot" || !comment.body) continue;
    // Ids grow with creation, so they order comments exactly where timestamps (whole seconds) tie.
    if (triggerId !== undefined ? comment.id >= triggerId : after(comment.created_at, trigger.triggeredAt)) continue;
    if (await canWrite(octokit, owner, repo, login, cache)) kept.push({ author: login, body: comment.body });
  }
  return kept.slice(-MAX_COMMENTS);
}

/** `issues` events of type `renamed`, from `GET /repos/{owner}/{repo}/issues/{number}/events`. */
interface RenameEvent {
  created_at: string;
  actor: { login: string } | null;
  rename?: { from: string; to: string };
}

/**
 * The title as of the trigger: when anyone without write access renamed the issue after it, the
 * title the first later rename started `from`; otherwise the current one.
 */
async function titleAtTrigger(
  octokit: Octokit,
  target: { owner: string; repo: string; number: number },
  current: string,
  trigger: Trigger,
  cache: PermissionCache,
): Promise<string> {
  const { owner, repo, number } = target;
  const events = (await octokit.paginate(octokit.rest.issues.listEvents, {
    owner,
    repo,
    issue_number: number,
    per_page: 100,
  })) as RenameEvent[];
  const renames = events
    .filter((e) => (e as { event?: string }).event === "renamed" && e.rename && after(e.created_at, trigger.triggeredAt))
    .sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
  for (const rename of renames) {
    const login = rename.actor?.login;
    if (!login || !(await canWrite(octokit, owner, repo, login, cache))) return renames[0]?.rename?.from ?? current;
  }
  return current;
}

/** The body's edit history, from GraphQL (`UserContentEdit.diff` holds the whole body after that edit). */
const EDITS_QUERY = `query($owner: String!, $repo: String!, $number: Int!) {
  repository(owner: $owner, name: $repo) {
    issue(number: $number) {
      lastEditedAt
      userContentEdits(first: 100) { totalCount nodes { editedAt editor { login } diff } }
    }
  }
}`;

interface EditsAnswer {
  repository: {
    issue: {
      lastEditedAt: string | null;
      userContentEdits: {
        totalCount: number;
        nodes: Array<{ editedAt: string; editor: { login: string } | null; diff: string | null } | null>;
      };
    } | null;
  } | null;
}

/**
 * The body as of the trigger. Unedited since, or edited since only by people with write access:
 * the current body. Edited since by anyone else: the newest revision from before the trigger, from
 * the issue's edit history; when GitHub no longer has it (a revision deleted from the history, or
 * beyond the first 100), the body is withheld, never shown in its edited form.
 */
async function bodyAtTrigger(
  octokit: Octokit,
  target: { owner: string; repo: string; number: number },
  current: string,
  trigger: Trigger,
  cache: PermissionCache,
): Promise<{ body: string; withheld?: string }> {
  const { owner, repo, number } = target;
  const answer = await octokit.graphql<EditsAnswer>(EDITS_QUERY, { owner, repo, number });
  const issue = answer.repository?.issue;
  if (issue && !after(issue.lastEditedAt, trigger.triggeredAt)) return { body: current };
  const edits = (issue?.userContentEdits.nodes ?? [])
    .filter((e) => e !== null)
    .sort((a, b) => Date.parse(a.editedAt) - Date.parse(b.editedAt));
  const later = edits.filter((e) => after(e.editedAt, trigger.triggeredAt));
  // Trusted only when every later edit is known: all of the history was returned, and it shows them.
  let trusted = !!issue && later.length > 0 && issue.userContentEdits.totalCount <= edits.length;
  for (const edit of later) {
    const login = edit.editor?.login;
    if (!login || !(await canWrite(octokit, owner, repo, login, cache))) trusted = false;
  }
  if (trusted) return { body: current };
  const before = edits.filter((e) => !after(e.editedAt, trigger.triggeredAt)).at(-1);
  if (before?.diff != null) return { body: before.diff };
  return {
    body: "",
    withheld: "the body was edited after the request by someone without write access, and its earlier text is not available",
  };
}

/**
 * The issue's title and body as they were when the maintainer asked (`trigger`). `snapshot` is
 * that state when the caller has it (the `issue` object of the triggering webhook, as
 * claude-code-action takes it); otherwise it is rebuilt: when `updated_at` is after the trigger,
 * renames come from the issue's events and body edits from its GraphQL edit history, and changes
 * made after the trigger by people without write access are undone (`bodyAtTrigger`).
 * @throws the Octokit RequestError or GraphqlResponseError of a failed request.
 */
export async function fetchIssueAtTrigger(
  octokit: Octokit,
  target: { owner: string; repo: string; number: number },
  trigger: Trigger,
  cache: PermissionCache,
  snapshot?: { title: string; body: string | null },
): Promise<IssueAtTrigger> {
  if (snapshot) return { number: target.number, title: snapshot.title, body: snapshot.body ?? "" };
  const { owner, repo, number } = target;
  const { data } = await octokit.rest.issues.get({ owner, repo, issue_number: number });
  const issue: IssueAtTrigger = { number: data.number, title: data.title, body: data.body ?? "" };
  // Any edit, rename or comment moves `updated_at`; when it has not moved since the trigger's second,
  // what GitHub has now is what was asked about. (The triggering comment itself moves it to that second.)
  if (data.updated_at && !after(data.updated_at, trigger.triggeredAt)) return issue;
  issue.title = await titleAtTrigger(octokit, target, issue.title, trigger, cache);
  const body = await bodyAtTrigger(octokit, target, issue.body, trigger, cache);
  return { ...issue, ...body };
}
