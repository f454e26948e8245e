import {
  atCommandStart,
  isSpace,
  isWordChar,
  nestedEnd,
  onlySpaceBefore,
  regexAllowed,
  regexEnd,
  stringEnd,
  templateText,
} from "./comment-literals.js";
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
