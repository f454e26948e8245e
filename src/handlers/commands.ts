/**
 * The slash commands a maintainer writes as the first line of an issue comment:
 * `/agent fix [--agent NAME] [--workflow NAME] [instructions...]`, `/agent retry`, `/agent cancel`, `/agent dismiss`, `/agent help`
 * (bare `/agent` too). Further lines of the comment are instructions.
 */
export type AgentCommand =
  | { name: "fix" | "retry"; agent?: string; workflow?: string; instructions: string }
  | { name: "cancel" }
  | { name: "dismiss" }
  | { name: "help" }
  | { name: "unknown"; word: string };

/** Longest instructions kept from one comment (characters); GitHub comments can hold 65,536. */
const MAX_INSTRUCTIONS = 4_000;
const AGENT_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * Parses a comment body. Returns null when the first line is not an `/agent` command, so ordinary
 * comments cost nothing. Only the first line is matched: quoting `/agent fix` later in a comment
 * does not trigger anything.
 */
export function parseAgentCommand(body: string | null | undefined): AgentCommand | null {
  if (!body) return null;
  const [first = "", ...rest] = body.replace(/\r\n?/g, "\n").split("\n");
  const match = /^\s*\/agent(?=\s|$)(?:\s+(\S+))?(.*)$/.exec(first);
  if (!match) return null;
  const word = (match[1] ?? "").toLowerCase();
  if (word === "cancel") return { name: "cancel" };
  if (word === "dismiss") return { name: "dismiss" };
  if (word === "" || word === "help") return { name: "help" };
  if (word !== "fix" && word !== "retry") return { name: "unknown", word };
  let args = (match[2] ?? "").trim();
  let agent: string | undefined;
  let workflow: string | undefined;
  // `--agent NAME` and `--workflow NAME`, in any order, before the instructions.
  for (let flag = /^--(agent|workflow)(?:=|\s+)(\S+)\s*/.exec(args); flag; flag = /^--(agent|workflow)(?:=|\s+)(\S+)\s*/.exec(args)) {
    const value = (flag[2] ?? "").toLowerCase();
    if (!AGENT_NAME.test(value)) return { name: "unknown", word: `--${flag[1]} ${value}` };
    if (flag[1] === "agent") agent = value;
    else workflow = value;
    args = args.slice(flag[0].length);
  }
  const instructions = [args, ...rest].join("\n").trim().slice(0, MAX_INSTRUCTIONS);
  return { name: word, ...(agent !== undefined && { agent }), ...(workflow !== undefined && { workflow }), instructions };
}
