import { open, realpath } from "node:fs/promises";
import path from "node:path";

/** Repository files that tell coding agents how to work on the project, read in this order when present. */
export const INSTRUCTION_FILES = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md", "CONTRIBUTING.md"] as const;
/** Cap on each instruction file read (bytes): a prompt is not the place for a whole handbook. */
export const MAX_INSTRUCTION_FILE_BYTES = 8 * 1024;
/** Lines of code shown on each side of a TODO finding's line. */
export const FINDING_CONTEXT_LINES = 20;

/** The code around a TODO finding, with who wrote its line and when (from `git blame`, when known). */
export interface FetchedFinding {
  path: string;
  /** 1-based line of the comment. */
  line: number;
  /** The comment's text, e.g. `TODO: handle the empty case`. */
  title: string;
  /** 1-based line of the first line in `code`. */
  startLine: number;
  code: string;
  author?: string | null;
  /** ISO 8601 author time of the line. */
  authoredAt?: string | null;
}

/** The repository's own agent instruction files, each capped at MAX_INSTRUCTION_FILE_BYTES. */
export type RepositoryInstructions = Array<{ path: string; text: string; truncated: boolean }>;

/**
 * Reads up to `maxBytes` of a file that really lies inside `root` (a symlink pointing out of the
 * worktree is refused), or undefined when it is absent or not a regular file.
 */
export async function readInside(
  root: string,
  relative: string,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean } | undefined> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(path.resolve(realRoot, relative));
    if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) return undefined;
    const handle = await open(real, "r");
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) return undefined;
      const buffer = Buffer.alloc(Math.min(stat.size, maxBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return { text: buffer.subarray(0, bytesRead).toString("utf8"), truncated: stat.size > maxBytes };
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/** The repository's own agent instructions present in the worktree. */
export async function fetchRepositoryInstructions(worktree: string): Promise<RepositoryInstructions> {
  const found: RepositoryInstructions = [];
  for (const file of INSTRUCTION_FILES) {
    const read = await readInside(worktree, file, MAX_INSTRUCTION_FILE_BYTES);
    if (read?.text.trim()) found.push({ path: file, ...read });
  }
  return found;
}

/**
 * The code around a TODO finding: FINDING_CONTEXT_LINES lines each side of `line` (1-based), read
 * from the worktree (at most 1 MiB of the file); empty when the file is gone or outside the worktree.
 */
export async function fetchFindingContext(worktree: string, finding: Omit<FetchedFinding, "startLine" | "code">): Promise<FetchedFinding> {
  const read = await readInside(worktree, finding.path, 1024 * 1024);
  if (!read) return { ...finding, startLine: finding.line, code: "" };
  const lines = read.text.split("\n");
  const startLine = Math.max(1, finding.line - FINDING_CONTEXT_LINES);
  const code = lines.slice(startLine - 1, finding.line + FINDING_CONTEXT_LINES).join("\n");
  return { ...finding, startLine, code };
}
