import type { BlockRule, StringRule } from "./comment-syntax.js";

/**
 * The lexer's scanning helpers for what is not a comment: string, template, regular-expression and
 * nested-block literals, and the context tests (word characters, command starts) the rules need.
 * Each takes the text and an offset and returns an offset; none allocates per character.
 */

/** Offset just past the string that starts its body at `from`; -1 when it is no string after all. */
export function stringEnd(text: string, from: number, rule: StringRule): number {
  const bounded = rule.maxLength !== undefined;
  const eol = rule.multiline && !bounded ? -1 : text.indexOf("\n", from);
  for (let i = from; ; ) {
    const end = text.indexOf(rule.close, i);
    if (eol >= 0 && (end < 0 || eol < end)) return bounded ? -1 : eol;
    if (end < 0) return bounded ? -1 : text.length;
    if (bounded && end - from > (rule.maxLength ?? 0)) return -1;
    let slashes = 0;
    while (rule.escape && text.charCodeAt(end - 1 - slashes) === 92 && end - 1 - slashes >= from) slashes++;
    if (slashes % 2 === 0) return end + rule.close.length;
    i = end + 1;
  }
}

/**
 * Reads a template literal's text from `from` (just past the backtick or a substitution's `}`):
 * returns the offset past its closing backtick, or, when a `${` comes first, the negated offset
 * just past that `${` (where code resumes).
 */
export function templateText(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 96) return i + 1;
    else if (c === 36 && text.charCodeAt(i + 1) === 123) return -(i + 2);
  }
  return text.length;
}

export function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127;
}

export function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

const REGEX_AFTER_WORD = new Set([
  "return",
  "typeof",
  "case",
  "do",
  "else",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "yield",
  "await",
]);

/** Whether a `/` at `pos` starts a regular expression rather than dividing, judged by what precedes it. */
export function regexAllowed(text: string, pos: number): boolean {
  let i = pos - 1;
  while (i >= 0 && isSpace(text.charCodeAt(i))) i--;
  if (i < 0) return true;
  const code = text.charCodeAt(i);
  if (isWordChar(code)) {
    let start = i;
    while (start > 0 && isWordChar(text.charCodeAt(start - 1))) start--;
    return REGEX_AFTER_WORD.has(text.slice(start, i + 1));
  }
  // `<` and `>` are left out: `</p>` closes a JSX element far more often than a regex follows a comparison.
  return "(,=:[!&|?{};+-*%~^".includes(text.charAt(i));
}

export function regexEnd(text: string, from: number): number {
  let inClass = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 10) return i;
    else if (c === 91) inClass = true;
    else if (c === 93) inClass = false;
    else if (c === 47 && !inClass) return i + 1;
  }
  return text.length;
}

export function nestedEnd(text: string, from: number, rule: BlockRule): number {
  let depth = 1;
  let i = from;
  while (depth > 0) {
    const close = text.indexOf(rule.close, i);
    if (close < 0) return text.length;
    const open = text.indexOf(rule.open, i);
    if (open >= 0 && open < close) {
      depth++;
      i = open + rule.open.length;
    } else {
      depth--;
      i = close + rule.close.length;
    }
  }
  return i;
}

/** Tcl: whether a command may start at `pos` (only blanks since the line start, `;`, `{` or `[`). */
export function atCommandStart(text: string, pos: number): boolean {
  let i = pos - 1;
  while (i >= 0 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i--;
  return i < 0 || "\n\r;{[".includes(text.charAt(i));
}

export function onlySpaceBefore(text: string, pos: number): boolean {
  for (let i = pos - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 10) return true;
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
