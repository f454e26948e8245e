/**
 * Markdown images and link targets, found with a bracket matcher instead of regular expressions:
 * brackets and parentheses nest in Markdown (`[![badge](img)](url)`, `(https://e.com/(a))`), which
 * a regular expression gets wrong (a way past the sanitiser) or gets slow (hostile input that
 * backtracks for seconds). Everything here is linear in the text, with bounded look-ahead.
 * Rules: https://spec.commonmark.org/0.31.2/#links and #images.
 */

/** Longest link destination looked at (characters); CommonMark sets no limit, browsers do. */
const MAX_DESTINATION = 8_192;
/** CommonMark's own limit on nested parentheses in a destination. */
const MAX_PAREN_DEPTH = 32;

/** For each `[`, the index of its matching `]` (backslash escapes honoured). */
function matchBrackets(text: string): Map<number, number> {
  const matches = new Map<number, number>();
  const open: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "\\") i++;
    else if (char === "[") open.push(i);
    else if (char === "]") {
      const start = open.pop();
      if (start !== undefined) matches.set(start, i);
    }
  }
  return matches;
}

/** True when the character at `at` is escaped by an odd run of backslashes. */
function escaped(text: string, at: number): boolean {
  let count = 0;
  for (let i = at - 1; i >= 0 && text[i] === "\\"; i--) count++;
  return count % 2 === 1;
}

/**
 * Finds the next unescaped `char` at or after `from`. The answer for one search also answers every
 * later search that starts before it, so many titles opening before one distant closer cost one scan.
 */
type CloserCache = Map<string, { from: number; at: number }>;
function nextUnescaped(text: string, char: string, from: number, cache: CloserCache): number {
  const known = cache.get(char);
  if (known && from >= known.from && (known.at === -1 || from <= known.at)) return known.at;
  let at = text.indexOf(char, from);
  while (at !== -1 && escaped(text, at)) at = text.indexOf(char, at + 1);
  cache.set(char, { from, at });
  return at;
}

const isSpace = (char: string | undefined): boolean => char === " " || char === "\t" || char === "\n";

function skipSpaces(text: string, from: number): number {
  let i = from;
  while (isSpace(text[i])) i++;
  return i;
}

/**
 * Parses `(destination "title")` starting at the `(` at `from`.
 * @returns the destination and the index after the closing `)`, or undefined when it is not a link tail.
 */
function parseTail(text: string, from: number, cache: CloserCache): { destination: string; end: number } | undefined {
  const limit = Math.min(text.length, from + MAX_DESTINATION);
  let i = skipSpaces(text, from + 1);
  const destStart = i;
  if (text[i] === "<") {
    while (i < limit && text[i] !== ">" && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
    if (text[i] !== ">") return undefined;
    i++;
  } else {
    let depth = 0;
    while (i < limit && !isSpace(text[i])) {
      const char = text[i];
      if (char === "\\") i++;
      else if (char === "(" && ++depth > MAX_PAREN_DEPTH) return undefined;
      else if (char === ")" && depth-- === 0) break;
      i++;
    }
    if (depth > 0) return undefined;
  }
  const destination = text.slice(destStart, i);
  i = skipSpaces(text, i);
  const quote = text[i];
  if (quote === '"' || quote === "'" || quote === "(") {
    const close = nextUnescaped(text, quote === "(" ? ")" : quote, i + 1, cache);
    if (close === -1) return undefined;
    i = skipSpaces(text, close + 1);
  }
  return text[i] === ")" ? { destination, end: i + 1 } : undefined;
}

/**
 * For each link whose target must go, where its `[` opens and what to skip after its `]`: an inline
 * link's `(destination "title")` or a full or collapsed reference's `[label]`. A label never
 * renders when its definition exists; when it does not, GitHub shows it literally and dropping it
 * costs a little visible text, which is the safe side (a definition hidden in a list item or a
 * block quote would otherwise let the label through).
 */
function linkTails(text: string, matches: Map<number, number>, cache: CloserCache): { opens: Set<number>; skips: Map<number, number> } {
  const opens = new Set<number>();
  const skips = new Map<number, number>();
  for (const [open, close] of matches) {
    if (text[open - 1] === "!" && !escaped(text, open - 1)) continue;
    const next = text[close + 1];
    const end = next === "(" ? parseTail(text, close + 1, cache)?.end : next === "[" ? (matches.get(close + 1) ?? -2) + 1 : undefined;
    if (end === undefined || end < 0) continue;
    opens.add(open);
    skips.set(close, end);
  }
  return { opens, skips };
}

/**
 * Keeps what a reader sees of links and images and drops where they point: every image
 * (`![alt](src "title")`, `![alt][ref]`, nested alt text included) becomes `[image]`; an inline
 * link (`[text](destination "title")`) and a reference link (`[text][label]`, `[text][]`) become
 * their text. A destination is never rendered, so it can carry words no reviewer read; an
 * autolink (`<https://...>`) or a bare URL is its own visible text and stays.
 */
export function stripLinkTargets(text: string): string {
  const matches = matchBrackets(text);
  const cache: CloserCache = new Map();
  const { opens, skips } = linkTails(text, matches, cache);
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    const imageClose = char === "!" && !escaped(text, i) ? matches.get(i + 1) : undefined;
    if (imageClose !== undefined) {
      out += "[image]";
      i = imageClose + 1;
      if (text[i] === "(") i = parseTail(text, i, cache)?.end ?? i;
      else if (text[i] === "[") i = (matches.get(i) ?? i - 1) + 1;
      continue;
    }
    if (opens.has(i)) {
      i++;
      continue;
    }
    const skip = skips.get(i);
    if (skip !== undefined) {
      i = skip;
      continue;
    }
    if (char === "\\") {
      out += text.slice(i, i + 2);
      i += 2;
      continue;
    }
    out += char;
    i++;
  }
  return out;
}
