import type { BlockRule, CommentSyntax, StringRule } from "./comment-syntax.js";

/** One comment in a file: `[start, end)` are UTF-16 offsets into the text, delimiters included. */
export interface CommentSegment {
  start: number;
  end: number;
  /** The opening delimiter (`//`, `/*`, `#`, `"""` for a docstring). */
  open: string;
  /** The closing delimiter; empty for a line comment, which ends at the end of its line. */
  close: string;
}

type Action =
  | { kind: "line"; open: string }
  | { kind: "block"; rule: BlockRule }
  | { kind: "string"; rule: StringRule }
  | { kind: "regex" }
  | { kind: "brace"; delta: 1 | -1 };

interface Candidate {
  token: string;
  action: Action;
}

/** Delimiters by their first character (all are ASCII), longest first, so `"""` wins over `"` and `--[[` over `--`. */
interface Compiled {
  /** Finds the next delimiter: irregexp skips the text between delimiters faster than a JS loop. */
  scanner: RegExp;
  /** Inside a template substitution (`${ ... }`), braces count too, to find the `}` that closes it. */
  braced: RegExp | undefined;
  byFirst: (Candidate[] | undefined)[];
}

const compiledSyntax = new WeakMap<CommentSyntax, Compiled>();

function compile(syntax: CommentSyntax): Compiled {
  const cached = compiledSyntax.get(syntax);
  if (cached) return cached;
  const actions = new Map<string, Action>();
  for (const rule of syntax.strings) actions.set(rule.open, { kind: "string", rule });
  for (const rule of syntax.block) actions.set(rule.open, { kind: "block", rule });
  for (const open of syntax.line) actions.set(open, { kind: "line", open });
  if (syntax.regex && !actions.has("/")) actions.set("/", { kind: "regex" });
  const template = syntax.strings.some((rule) => rule.template);
  const tokens = [...actions].sort(([a], [b]) => b.length - a.length);
  const quote = (token: string) => token.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const alternatives = tokens.map(([token]) => quote(token));
  const compiled: Compiled = {
    scanner: new RegExp(alternatives.join("|") || "(?!)", "g"),
    braced: template ? new RegExp([...alternatives, "\\{", "\\}"].join("|"), "g") : undefined,
    byFirst: [],
  };
  if (template) {
    tokens.push(["{", { kind: "brace", delta: 1 }], ["}", { kind: "brace", delta: -1 }]);
  }
  for (const [token, action] of tokens) {
    const first = token.charCodeAt(0);
    const list = compiled.byFirst[first] ?? [];
    list.push({ token, action });
    compiled.byFirst[first] = list;
  }
  compiledSyntax.set(syntax, compiled);
  return compiled;
}

/** Offset just past the string that starts its body at `from`; -1 when it is no string after all. */
function stringEnd(text: string, from: number, rule: StringRule): number {
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
function templateText(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 96) return i + 1;
    else if (c === 36 && text.charCodeAt(i + 1) === 123) return -(i + 2);
  }
  return text.length;
}

function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95 || code > 127;
}

function isSpace(code: number): boolean {
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
function regexAllowed(text: string, pos: number): boolean {
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

function regexEnd(text: string, from: number): number {
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

function nestedEnd(text: string, from: number, rule: BlockRule): number {
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
function atCommandStart(text: string, pos: number): boolean {
  let i = pos - 1;
  while (i >= 0 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i--;
  return i < 0 || "\n\r;{[".includes(text.charAt(i));
}

function onlySpaceBefore(text: string, pos: number): boolean {
  for (let i = pos - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 10) return true;
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * Finds the comments of `text`, in order, skipping string literals (and, for JavaScript, regular
 * expression literals) so that a comment opener inside them is not taken for a comment.
 * Stops after the last comment that starts at or before `until` (a UTF-16 offset), so a caller that
 * only cares about the start of a file does not pay for the rest. A heuristic lexer, not a parser:
 * heredocs and raw-string prefixes are not modelled; template literals (`template` strings) are,
 * with their `${ ... }` substitutions lexed as code, nested to any depth.
 */
export function findComments(text: string, syntax: CommentSyntax, until = text.length): CommentSegment[] {
  const { scanner: plain, braced, byFirst } = compile(syntax);
  const segments: CommentSegment[] = [];
  /** Open `${` substitutions, innermost last: how many `{` each has open inside it. */
  const substitutions: number[] = [];
  let scanner = plain;
  scanner.lastIndex = 0;
  for (let m = scanner.exec(text); m && m.index <= until; m = scanner.exec(text)) {
    const pos = m.index;
    let action: Action | undefined;
    for (const candidate of byFirst[text.charCodeAt(pos)] ?? []) {
      if (candidate.token.length === 1 || text.startsWith(candidate.token, pos)) {
        action = candidate.action;
        break;
      }
    }
    if (!action) {
      scanner.lastIndex = pos + 1;
      continue;
    }
    const prev = pos > 0 ? text.charCodeAt(pos - 1) : 10;
    let next = pos + 1;
    if (action.kind === "line") {
      const opens = syntax.lineCommandStart
        ? atCommandStart(text, pos)
        : !syntax.lineWordStart || isSpace(prev) || ";|&(".includes(text.charAt(pos - 1));
      if (opens) {
        const eol = text.indexOf("\n", pos);
        next = eol < 0 ? text.length : eol;
        segments.push({ start: pos, end: next, open: action.open, close: "" });
      }
    } else if (action.kind === "block") {
      const { rule } = action;
      if (!rule.lineStart || prev === 10) {
        const body = pos + rule.open.length;
        const close = syntax.nested ? nestedEnd(text, body, rule) : text.indexOf(rule.close, body);
        next = close < 0 ? text.length : syntax.nested ? close : close + rule.close.length;
        segments.push({ start: pos, end: next, open: rule.open, close: rule.close });
      }
    } else if (action.kind === "brace") {
      const depth = substitutions.length - 1;
      if (action.delta === 1) substitutions[depth] = (substitutions[depth] ?? 0) + 1;
      else if ((substitutions[depth] ?? 0) > 0) substitutions[depth] = (substitutions[depth] ?? 0) - 1;
      else {
        substitutions.pop();
        next = templateText(text, pos + 1);
        if (next < 0) {
          substitutions.push(0);
          next = -next;
        }
      }
    } else if (action.kind === "string" && action.rule.template) {
      next = templateText(text, pos + 1);
      if (next < 0) {
        substitutions.push(0);
        next = -next;
      }
    } else if (action.kind === "string") {
      const { rule } = action;
      const end = rule.wordStart && isWordChar(prev) ? -1 : stringEnd(text, pos + rule.open.length, rule);
      if (end >= 0) {
        next = end;
        if (rule.docstring && onlySpaceBefore(text, pos)) segments.push({ start: pos, end, open: rule.open, close: rule.close });
      }
    } else if (regexAllowed(text, pos)) {
      next = regexEnd(text, pos + 1);
    }
    scanner = substitutions.length > 0 && braced ? braced : plain;
    scanner.lastIndex = next;
  }
  return segments;
}

/** The comment containing `offset`, by binary search over `findComments` output; `undefined` when it is code. */
export function commentAt(segments: readonly CommentSegment[], offset: number): CommentSegment | undefined {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const segment = segments[mid];
    if (!segment) return undefined;
    if (offset < segment.start) hi = mid - 1;
    else if (offset >= segment.end) lo = mid + 1;
    else return segment;
  }
  return undefined;
}
