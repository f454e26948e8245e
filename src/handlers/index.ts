import type { EmitterWebhookEventName } from "@octokit/webhooks";
import { onCheckRunCompleted, onCheckSuiteCompleted, onWorkflowRunCompleted } from "./checks.js";
import { parseAgentCommand } from "./commands.js";
import { onInstallationSuspended, onInstallationUnsuspended, onRepositoriesAdded, onRepositoriesRemoved } from "./installation.js";
import { onIssueCommentCreated } from "./issue-comment.js";
import { onIssues } from "./issues.js";
import { onPullRequestClosed, onPullRequestReopened } from "./pull-request.js";
import { onPush } from "./push.js";
import { onRepositoryRenamed, onRepositoryTransferred } from "./repository.js";
import { onPullRequestReviewSubmitted } from "./review.js";
import type { Handler } from "./types.js";

/**
 * Which handler answers which `event.action`. Adding a handler is one file and one line here.
 * Events not listed are recorded as deliveries and otherwise ignored.
 */
export const handlers: Partial<{ [E in EmitterWebhookEventName]: Handler<E> }> = {
  "issue_comment.created": onIssueCommentCreated,
  "pull_request.closed": onPullRequestClosed,
  "pull_request.reopened": onPullRequestReopened,
  "pull_request_review.submitted": onPullRequestReviewSubmitted,
  "installation.created": onRepositoriesAdded,
  "installation_repositories.added": onRepositoriesAdded,
  "installation.deleted": onRepositoriesRemoved,
  "installation.suspend": onInstallationSuspended,
  "installation.unsuspend": onInstallationUnsuspended,
  "installation_repositories.removed": onRepositoriesRemoved,
  "repository.renamed": onRepositoryRenamed,
  "repository.transferred": onRepositoryTransferred,
  push: onPush,
  "check_run.completed": onCheckRunCompleted,
  "check_suite.completed": onCheckSuiteCompleted,
  "workflow_run.completed": onWorkflowRunCompleted,
  "issues.opened": onIssues,
  "issues.edited": onIssues,
  "issues.labeled": onIssues,
  "issues.unlabeled": onIssues,
  "issues.closed": onIssues,
  "issues.reopened": onIssues,
};

/**
 * Cheap checks on a payload before its handler runs, for events most of whose deliveries need
 * nothing: a comment that is not an `/agent` command is the common case on a busy repository.
 */
export const HANDLER_FILTERS: Partial<Record<string, (payload: unknown) => boolean>> = {
  "issue_comment.created": (payload) => parseAgentCommand((payload as { comment?: { body?: string | null } }).comment?.body) !== null,
};
