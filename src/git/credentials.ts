/**
 * The one-shot credential helper. Git runs it (through `sh`) when the remote asks for credentials;
 * it answers only `get`, and only by copying what the bot wrote to an inherited pipe on file
 * descriptor 3 (see `ExecOptions.fd3Input`). The pipe holds one answer and is then closed, so a
 * second `get` reads nothing. The token is never in an environment variable (which every child of
 * git would inherit and `/proc/<pid>/environ` would show), an argument, a URL or `.git/config`.
 * Protocol: https://git-scm.com/docs/git-credential#IOFMT
 */
const HELPER = '!f() { test "$1" = get || exit 0; cat <&3; }; f';

/** A token for one remote host, as git's credential protocol wants it. */
export interface GitCredential {
  /** The token (an installation token: user `x-access-token`). */
  token: string;
  /** The https URL the token is for; the helper answers for this scheme and host only. */
  url: string;
}

/**
 * The `-c` settings that install the helper for `credential.url`'s origin only. The bare
 * `credential.helper=` first empties the helper list, so no helper from the mirror's config (which a
 * repository cannot set, but an operator's global config could) is asked as well; git matches
 * `credential.<url>.helper` by scheme, host and port (https://git-scm.com/docs/gitcredentials#_credential_contexts).
 * @throws TypeError when `url` is not an absolute URL.
 */
export function credentialArgs(credential: GitCredential): string[] {
  const { origin } = new URL(credential.url);
  return ["-c", "credential.helper=", "-c", `credential.${origin}.helper=${HELPER}`, "-c", "credential.useHttpPath=false"];
}

/** What the helper prints: git's credential format. */
export function credentialAnswer(credential: GitCredential): string {
  const url = new URL(credential.url);
  return `protocol=${url.protocol.replace(/:$/, "")}\nhost=${url.host}\nusername=x-access-token\npassword=${credential.token}\n`;
}
