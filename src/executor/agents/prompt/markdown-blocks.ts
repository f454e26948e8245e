/**
 * Block-level Markdown that hides text: fence info strings, math, and reference definitions. Fenced
 * code whose bounds are certain is kept verbatim (GitHub shows it as typed, so nothing in it is
 * hidden, and mangling `$HOME/$USER` or `handlers[name](event)` would mislead the agent); all other
 * text goes through `inline`. Where this reading of Markdown could differ from GitHub's, it errs
 * towards treating text as prose, which only costs visible text, never lets hidden text through.
 * Rules: https://spec.commonmark.org/0.31.2/#fenced-code-blocks, GitHub's math syntax
 * (https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/writing-mathematical-expressions).
 */

/**
 * Fence info words kept: a language name is shown by no renderer, but it tells the agent what the
 * code is and is too short to carry an instruction. Any other info string goes whole.
 */
const LANGUAGES = new Set(
  (
    "bash c clojure cmake cpp cs csharp css cuda dart diff dockerfile elixir erlang fish go gradle graphql groovy haskell " +
    "hcl html ini java javascript js json json5 jsonc jsx kotlin kt latex less lua make makefile markdown md nginx nim nix " +
    "objc ocaml perl php powershell ps1 proto protobuf py python r rb ruby rust rs sass scala scss sh shell sql swift " +
    "terraform text toml ts tsx txt typescript vim vue xml yaml yml zig zsh console log plaintext gitignore starlark tcl"
  ).split(" "),
);

/** A line that opens or closes a fence, after any block-quote or list-item markers (`prefix`). */
const FENCE_LINE = /^((?:[ \t]*(?:>|[-*+]|\d{1,9}[.)])(?=[ \t]|$))*[ \t]*)(`{3,}|~{3,})(.*)$/;
/** A line that starts a raw HTML block; until the next blank line a fence in it is not a fence. */
const HTML_START = /^ {0,3}<[A-Za-z/!?]/;
/** Link reference definitions, in a container or not (they never render). Footnotes (`[^1]:`) render. */
const DEFINITION = /^(?:[ \t]*(?:>|[-*+]|\d{1,9}[.)])(?=[ \t]|$))*[ \t]*\[(?!\^)(?:\\.|[^\]\\\n]){1,999}\]:(.*)$/;
/** A definition's title or destination on the line after its label. */
const CONTINUATION = /^[ \t>]*(?:["'(<]|\S+[ \t]*$)/;

/** The info word kept for a fence: a known language name, or nothing. */
function cleanInfo(info: string): string {
  const word =
    info
      .trim()
      .split(/\s/, 1)[0]
      ?.replace(/^\{\.?|\}$/g, "")
      .toLowerCase() ?? "";
  return LANGUAGES.has(word) ? word : "";
}

/** Closers found per fence marker (`char` x `length`), so unclosed fences cost one scan each, not one per opener. */
type CloseCache = Map<string, { from: number; at: number }>;

/**
 * Index of the line closing a fence of `marker` opened at line `from`, or -1: the first line that
 * closes it at any indentation, in any container. This is at or before GitHub's close, which is
 * the safe side for code kept as typed (text after the close is treated as prose).
 */
function earlyClose(lines: string[], from: number, marker: string, cache: CloseCache): number {
  const key = `${marker[0]}${marker.length}`;
  const known = cache.get(key);
  // An answer for an earlier opener holds for this one too while this one opens before it.
  if (known && from >= known.from && (known.at === -1 || from < known.at)) return known.at;
  let at = -1;
  for (let j = from + 1; j < lines.length && at === -1; j++) {
    const match = FENCE_LINE.exec(lines[j] as string);
    const run = match?.[2] ?? "";
    if (run[0] === marker[0] && run.length >= marker.length && !match?.[3]?.trim()) at = j;
  }
  cache.set(key, { from, at });
  return at;
}

/**
 * The last line of a math fence opened at `from` inside `prefix` (block-quote or list markers):
 * its closer written with the same prefix, or the line before its container ends (a line without
 * `>` for a quote, a less indented line for a list item; fenced blocks have no lazy lines). This is
 * at or after GitHub's close, the safe side for text that is dropped.
 */
function lateClose(lines: string[], from: number, prefix: string, marker: string): number {
  const quoted = prefix.includes(">");
  for (let j = from + 1; j < lines.length; j++) {
    const line = lines[j] as string;
    const rest = line.startsWith(prefix) ? line.slice(prefix.length) : undefined;
    const run = rest === undefined ? undefined : /^ {0,3}(`+|~+)[ \t]*$/.exec(rest)?.[1];
    if (run && run[0] === marker[0] && run.length >= marker.length) return j;
    if (prefix === "") continue;
    if (quoted ? !/^ {0,3}>/.test(line) : line.trim() !== "" && (/^[ \t]*/.exec(line)?.[0].length ?? 0) < prefix.length) return j - 1;
  }
  return lines.length - 1;
}

/** Drops reference definitions, with a destination or title that continues on the next lines. */
function dropDefinitions(lines: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = DEFINITION.exec(lines[i] as string);
    if (!match) {
      out.push(lines[i] as string);
      continue;
    }
    const rest = match[1]?.trim() ?? "";
    // `[a]:` alone takes the destination from the next line; `[a]: url` may take a title from it.
    let more = rest === "" ? 2 : /^\S+$/.test(rest) || /^<[^>]*>$/.test(rest) ? 1 : 0;
    while (more-- > 0 && i + 1 < lines.length && CONTINUATION.test(lines[i + 1] as string)) i++;
  }
  return out;
}

/**
 * Math in prose: `$$...$$` (an unclosed one to the end, since a renderer may hide all of it),
 * `` $`...`$ ``, and `$...$` as GitHub reads it (no space inside either dollar, no digit after the
 * closing one, no blank line inside). All become `[math]`: `\phantom{}`, `\color{white}`,
 * `\tiny` and friends render text no one sees, and a formula says nothing an agent needs.
 */
export function stripMath(text: string): string {
  return text
    .replace(/(?<!\\)\$\$[\s\S]*?(?:\$\$|$)/g, "[math]")
    .replace(/(?<!\\)\$`[\s\S]*?`\$/g, "[math]")
    .replace(/(?<![\\$])\$(?=[^\s$])(?:\\.|[^$\\\n]|\n(?![ \t]*\n)){1,2000}?(?<=[^\s\\])\$(?!\d)/g, "[math]");
}

/**
 * Applies `inline` to every part of `text` that is not fenced code GitHub certainly shows as code,
 * drops reference definitions and fence info strings everywhere, and replaces ```` ```math ````
 * blocks (in any container, closed or not) with `[math]`.
 */
export function stripBlocks(text: string, inline: (prose: string) => string): string {
  const lines = text.split("\n");
  const out: string[] = [];
  let prose: string[] = [];
  const closes: CloseCache = new Map();
  let inHtml = false;
  // Inside an open `$$` a fence may be part of the formula, so it is not taken as code.
  let openMath = false;
  const flush = () => {
    if (prose.length) out.push(inline(dropDefinitions(prose).join("\n")));
    prose = [];
    openMath = false;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = FENCE_LINE.exec(line);
    const prefix = fence?.[1] ?? "";
    const marker = fence?.[2] ?? "";
    const info = fence?.[3] ?? "";
    if (!fence || (marker[0] === "`" && info.includes("`"))) {
      inHtml = line.trim() === "" ? false : inHtml || HTML_START.test(line);
      if ((line.match(/(?<!\\)\$\$/g)?.length ?? 0) % 2 === 1) openMath = !openMath;
      prose.push(line);
      continue;
    }
    if (/^\{?\.?math(?![\w-])/i.test(info.trim())) {
      prose.push(`${prefix}[math]`);
      i = lateClose(lines, i, prefix, marker);
      continue;
    }
    const close = earlyClose(lines, i, marker, closes);
    // Only a top-level fence outside raw HTML, closed, is sure to be code: a fence in a list item or
    // a block quote can end early with its container, and text after it would render as Markdown.
    if (prefix === "" && !inHtml && !openMath && close !== -1) {
      flush();
      out.push(`${marker}${cleanInfo(info)}`, ...lines.slice(i + 1, close + 1));
      i = close;
      continue;
    }
    prose.push(`${prefix}${marker}${cleanInfo(info)}`);
  }
  flush();
  return out.join("\n");
}
