/**
 * Glob matching whose cost cannot explode, for patterns a repository supplies (the config's
 * `todo.exclude` and `todo.include`, `.gitattributes` lines) matched against paths it also
 * supplies. picomatch and minimatch turn globs into backtracking regular expressions: on this
 * machine `*a*a*a*b` against a 255-character name took 0.5 s and `**` four times against a
 * 500-deep path 6 s, per path, with the server's event loop held the whole time (minimatch's own
 * README: "If you create a system where you take user input, and use that input as the source
 * of a Regular Expression pattern, in this or any extant glob matcher in JavaScript, you will be
 * pwned"). Here a pattern is compiled to states and run over the path as a set of live states
 * (Thompson's construction, https://swtch.com/~rsc/regexp/regexp1.html): each character of the
 * path costs at most one step per state, so matching is linear in the path.
 *
 * The syntax is picomatch's with `dot: true` for what such files use, and the tests compare the
 * two on thousands of pairs: `*` (any run without `/`), `?` (one character but `/`), `[...]`
 * (with `!`/`^` and ranges), `**` as a whole segment (any number of segments), `{a,b}`
 * (alternatives, nested), `\` escapes, a leading `!` (negation) and a leading `./` (dropped).
 * Extglobs (`+(a|b)`), POSIX classes and numeric ranges (`{1..3}`) are not supported: their
 * characters match themselves.
 */

/** One step of a compiled pattern. */
type Step =
  | { kind: "char"; char: string }
  | { kind: "one" }
  | { kind: "class"; negated: boolean; ranges: [string, string][] }
  | { kind: "star" }
  /** `**` with the slash after it: nothing, or anything that ends in `/`. */
  | { kind: "segments" }
  /** `/**` ending the pattern: nothing, or `/` and anything. */
  | { kind: "rest" }
  /** `**` as the whole pattern: anything. */
  | { kind: "any" };

/** At most this many alternatives from one pattern's braces; more are refused (`GlobError`). */
export const MAX_GLOB_ALTERNATIVES = 64;

/** Longer patterns are refused (`GlobError`): brace expansion recurses once per brace group. */
export const MAX_GLOB_LENGTH = 1_024;

/** A pattern that cannot be compiled (too long, or too many alternatives). */
export class GlobError extends Error {}

/**
 * Expands `{a,b}` (nested) into the alternative patterns, braces escaped with `\` left alone;
 * a brace with no comma or no closing brace stands for itself.
 * @throws GlobError past `MAX_GLOB_ALTERNATIVES`.
 */
function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "{") {
      if (depth++ === 0) open = i;
    } else if (c === "}" && depth > 0) {
      if (--depth === 0) {
        if (commas.length === 0) {
          // `{x}`: literal braces around x, which may itself hold alternatives.
          return expandBraces(pattern.slice(i + 1)).flatMap((tail) =>
            expandBraces(pattern.slice(open + 1, i)).map((inner) => `${pattern.slice(0, open)}\\{${inner}\\}${tail}`),
          );
        }
        const head = pattern.slice(0, open);
        const bounds = [open, ...commas, i];
        const out: string[] = [];
        for (const tail of expandBraces(pattern.slice(i + 1))) {
          for (let k = 0; k + 1 < bounds.length; k++) {
            for (const inner of expandBraces(pattern.slice((bounds[k] as number) + 1, bounds[k + 1]))) {
              out.push(head + inner + tail);
              if (out.length > MAX_GLOB_ALTERNATIVES) {
                throw new GlobError(`"${pattern}" has more than ${MAX_GLOB_ALTERNATIVES} alternatives`);
              }
            }
          }
        }
        return out;
      }
    } else if (c === "," && depth === 1) commas.push(i);
  }
  return [pattern];
}

/** Compiles one brace-free pattern into steps. */
function compileSteps(pattern: string): Step[] {
  const steps: Step[] = [];
  const segmentStart = (i: number) => i === 0 || pattern[i - 1] === "/";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      steps.push({ kind: "char", char: pattern[++i] as string });
    } else if (c === "*") {
      let end = i;
      while (pattern[end + 1] === "*") end++;
      // `**` is a globstar only as a whole segment; any other run of stars is one star.
      const globstar = end === i + 1 && segmentStart(i) && (end + 1 === pattern.length || pattern[end + 1] === "/");
      const last = end + 1 === pattern.length;
      if (!globstar) {
        if (steps.at(-1)?.kind !== "star") steps.push({ kind: "star" });
      } else if (steps.at(-1)?.kind === "segments") {
        // `**/**` is `**`: nothing more unless it ends the pattern, where `x/**/**` is `x/**`.
        if (last) {
          steps.pop();
          if (steps.at(-1)?.kind === "char" && (steps.at(-1) as { char: string }).char === "/") {
            steps.pop();
            steps.push({ kind: "rest" });
          } else steps.push({ kind: "any" });
        } else end++;
      } else if (last && i === 0) {
        steps.push({ kind: "any" });
      } else if (last) {
        steps.pop(); // the "/" before it: `/**` is one step
        steps.push({ kind: "rest" });
      } else {
        steps.push({ kind: "segments" });
        end++; // its "/"
      }
      i = end;
    } else if (c === "?") {
      steps.push({ kind: "one" });
    } else if (c === "[") {
      const parsed = parseClass(pattern, i);
      if (parsed) {
        steps.push(parsed.step);
        i = parsed.end;
      } else steps.push({ kind: "char", char: c });
    } else {
      steps.push({ kind: "char", char: c });
    }
  }
  return steps;
}

/** `[...]` at `start`: the class and the index of its `]`, or undefined when it is not closed. */
function parseClass(pattern: string, start: number): { step: Step; end: number } | undefined {
  let i = start + 1;
  const negated = pattern[i] === "!" || pattern[i] === "^";
  if (negated) i++;
  const ranges: [string, string][] = [];
  for (let first = true; i < pattern.length; first = false) {
    let c = pattern[i] as string;
    if (c === "]" && !first) return { step: { kind: "class", negated, ranges }, end: i };
    if (c === "\\" && i + 1 < pattern.length) c = pattern[++i] as string;
    if (pattern[i + 1] === "-" && i + 2 < pattern.length && pattern[i + 2] !== "]") {
      let to = pattern[i + 2] as string;
      i += 2;
      if (to === "\\" && i + 1 < pattern.length) to = pattern[++i] as string;
      ranges.push([c, to]);
    } else ranges.push([c, c]);
    i++;
  }
  return undefined;
}

/** Whether `step` (one that consumes exactly one character) takes `c`. */
function takes(step: Step, c: string): boolean {
  switch (step.kind) {
    case "char":
      return step.char === c;
    case "one":
      return c !== "/";
    case "class": {
      if (c === "/") return false;
      const inside = step.ranges.some(([from, to]) => c >= from && c <= to);
      return inside !== step.negated;
    }
    default:
      return false;
  }
}

/** The steps that repeat (match runs of characters); a regular expression with two can backtrack polynomially, with more exponentially. */
const REPEATING = new Set<Step["kind"]>(["star", "segments", "rest", "any"]);

/**
 * Runs the steps over `path` as a set of live states. State `2k` is "before step k"; state
 * `2k + 1` is "inside step k" (a `segments`, `rest` or `any` step that has consumed something);
 * `2 * steps.length` accepts. Each character moves every live state at most once, and a state
 * is live at most once, so the work is at most the path's length times the number of states.
 */
function run(steps: readonly Step[], path: string): boolean {
  const accept = 2 * steps.length;
  const seen = new Uint32Array(accept + 1); // generation a state was last added in: no clearing per character
  let live: number[] = [];
  let next: number[] = [];
  let generation = 1;
  // Adds state s to `list`, and what it reaches without consuming: a star, segments, rest or any may match nothing.
  const add = (list: number[], s: number): void => {
    for (let state = s; state <= accept && seen[state] !== generation; ) {
      seen[state] = generation;
      list.push(state);
      const kind = steps[state >> 1]?.kind;
      if (state % 2 === 1) {
        if (kind !== "rest" && kind !== "any") return; // inside `segments`, only a "/" ends it
        state += 1;
      } else if (kind !== undefined && REPEATING.has(kind)) state += 2;
      else return;
    }
  };
  add(live, 0);
  for (let i = 0; i < path.length && live.length > 0; i++) {
    const c = path[i] as string;
    generation++;
    next.length = 0;
    for (const state of live) {
      if (state === accept) continue;
      const k = state >> 1;
      const step = steps[k] as Step;
      const inside = state % 2 === 1;
      switch (step.kind) {
        case "star":
          if (c !== "/") add(next, state); // stays; `add` also moves past it
          break;
        case "segments":
          add(next, 2 * k + 1); // anything, then...
          if (c === "/") add(next, 2 * k + 2); // ...a "/" may end it
          break;
        case "rest":
          if (inside || c === "/") add(next, 2 * k + 1);
          break;
        case "any":
          add(next, 2 * k + 1);
          break;
        default:
          if (!inside && takes(step, c)) add(next, 2 * k + 2);
      }
    }
    [live, next] = [next, live];
  }
  return live.includes(accept);
}

const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");

/**
 * The steps as an anchored regular expression, used when at most one step repeats: a single
 * repetition backtracks at most once per character, so the native engine is both safe and several
 * times faster than `run` (the ranking classifies 100,000 paths: bench/rank.ts).
 */
function toRegExp(steps: readonly Step[]): RegExp {
  const body = steps
    .map((step) => {
      switch (step.kind) {
        case "char":
          return escapeRe(step.char);
        case "one":
          return "[^/]";
        case "class": {
          const set = step.ranges.map(([from, to]) => (from === to ? escapeRe(from) : `${escapeRe(from)}-${escapeRe(to)}`)).join("");
          return step.negated ? `[^${set}/]` : `(?!/)[${set}]`;
        }
        case "star":
          return "[^/]*";
        case "segments":
          return "(?:[\\s\\S]*/)?";
        case "rest":
          return "(?:/[\\s\\S]*)?";
        default: // "any"
          return "[\\s\\S]*";
      }
    })
    .join("");
  return new RegExp(`^${body}$`);
}

/** The longest run of literal characters in the steps: any path the pattern matches contains it. */
function longestLiteral(steps: readonly Step[]): string {
  let best = "";
  let current = "";
  for (const step of steps) {
    current = step.kind === "char" ? current + step.char : "";
    if (current.length > best.length) best = current;
  }
  return best;
}

/**
 * A test of one brace-free pattern: a regular expression when at most one step repeats, else
 * `run`; either behind a substring check of its longest literal run, which rejects most paths of
 * most patterns at once (a `.gitattributes` of thousands of rules is tested against every path).
 */
function compileAlternative(pattern: string): (path: string) => boolean {
  const steps = compileSteps(pattern);
  let test: (path: string) => boolean;
  if (steps.filter((step) => REPEATING.has(step.kind)).length <= 1) {
    const re = toRegExp(steps);
    test = (path) => re.test(path);
  } else test = (path) => run(steps, path);
  const literal = longestLiteral(steps);
  return literal.length > 1 ? (path) => path.includes(literal) && test(path) : test;
}

/**
 * Compiles a glob into a test of repo-relative paths (`/`-separated, no leading `./`).
 * @throws GlobError when it is longer than `MAX_GLOB_LENGTH` or its braces expand to more than
 *   `MAX_GLOB_ALTERNATIVES` patterns.
 */
export function compileGlob(pattern: string): (path: string) => boolean {
  if (pattern.length > MAX_GLOB_LENGTH) throw new GlobError(`a pattern is longer than ${MAX_GLOB_LENGTH} characters`);
  let negated = false;
  let body = pattern;
  while (body.startsWith("!")) {
    negated = !negated;
    body = body.slice(1);
  }
  if (body.startsWith("./")) body = body.slice(2);
  const alternatives = expandBraces(body).map(compileAlternative);
  if (alternatives.length === 1 && !negated) return alternatives[0] as (path: string) => boolean;
  return (path) => alternatives.some((test) => test(path)) !== negated;
}

/**
 * One test for several globs: true when any matches (an empty list matches nothing). With
 * `skipInvalid`, a pattern `compileGlob` refuses is left out (it matches nothing) instead.
 * @throws GlobError as `compileGlob` does, unless `skipInvalid`.
 */
export function compileGlobs(patterns: readonly string[], options: { skipInvalid?: boolean } = {}): (path: string) => boolean {
  const tests = patterns.flatMap((pattern) => {
    try {
      return [compileGlob(pattern)];
    } catch (error) {
      if (options.skipInvalid && error instanceof GlobError) return [];
      throw error;
    }
  });
  return (path) => tests.some((test) => test(path));
}
