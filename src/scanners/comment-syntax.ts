/**
 * Which comment (and string) syntax each language has, keyed by file name. The lexer in
 * comment-lexer.ts only needs to tell comments from code and strings, so a language is a short
 * list of delimiters, not a grammar.
 */

/** A string literal form. A comment opener inside one is text, not a comment. */
export interface StringRule {
  open: string;
  close: string;
  /** Backslash escapes the next character. */
  escape: boolean;
  /** May span lines; otherwise an unclosed string ends at the end of its line. */
  multiline: boolean;
  /** Opens only where no letter or digit comes right before (`don't` in YAML or Vue text is no string). */
  wordStart?: boolean;
  /** Counts only when it closes within this many characters (Rust `'a'` versus the lifetime `'a`). */
  maxLength?: number;
  /** Python: a string that is the first thing on its line is a docstring, which counts as a comment. */
  docstring?: boolean;
  /** JavaScript template literal: `${ ... }` inside it is code (with its own strings and comments) up to the matching `}`. */
  template?: boolean;
}

/** A block comment form. */
export interface BlockRule {
  open: string;
  close: string;
  /** Ruby's `=begin`: only at the start of a line. */
  lineStart?: boolean;
}

/** Everything the lexer needs to know about one language. */
export interface CommentSyntax {
  /** Line comment openers (`//`, `#`, `--`). */
  line: readonly string[];
  /** Line comments open only at the start of a word (shell, YAML: `$#` and `a#b` are no comments). */
  lineWordStart?: boolean;
  /**
   * Tcl: a line comment opens only where a command may start — after blanks at the start of a line,
   * or after `;`, `{` or `[` (https://www.tcl-lang.org/man/tcl/TclCmd/Tcl.htm, rule 10).
   */
  lineCommandStart?: boolean;
  block: readonly BlockRule[];
  /** Block comments nest (Rust, Kotlin, Swift). */
  nested?: boolean;
  strings: readonly StringRule[];
  /** JavaScript-like: `/.../` can be a regular expression literal, whose quotes are no strings. */
  regex?: boolean;
}

const dq: StringRule = { open: '"', close: '"', escape: true, multiline: false };
const sq: StringRule = { open: "'", close: "'", escape: true, multiline: false };
const cBlock: BlockRule = { open: "/*", close: "*/" };
const html: BlockRule = { open: "<!--", close: "-->" };
const tripleDq: StringRule = { open: '"""', close: '"""', escape: true, multiline: true };

const C: CommentSyntax = { line: ["//"], block: [cBlock], strings: [dq, sq] };
/** JS quotes never follow a letter in code, so `'` in JSX text (`<p>Don't</p>`) opens no string. */
const JS: CommentSyntax = {
  ...C,
  strings: [
    { ...dq, wordStart: true },
    { ...sq, wordStart: true },
    { open: "`", close: "`", escape: true, multiline: true, template: true },
  ],
  regex: true,
};
const GO: CommentSyntax = { ...C, strings: [dq, sq, { open: "`", close: "`", escape: false, multiline: true }] };
const JAVA: CommentSyntax = { ...C, strings: [tripleDq, dq, sq] };
const KOTLIN: CommentSyntax = { ...JAVA, nested: true, strings: [{ ...tripleDq, escape: false }, dq, sq] };
const RUST: CommentSyntax = {
  ...C,
  nested: true,
  strings: [
    { ...dq, multiline: true },
    { ...sq, maxLength: 12 },
  ],
};
const CSHARP: CommentSyntax = { ...C, strings: [{ open: '@"', close: '"', escape: false, multiline: true }, dq, sq] };
const PYTHON: CommentSyntax = {
  line: ["#"],
  block: [],
  strings: [{ ...tripleDq, docstring: true }, { open: "'''", close: "'''", escape: true, multiline: true, docstring: true }, dq, sq],
};
const RUBY: CommentSyntax = {
  line: ["#"],
  block: [{ open: "=begin", close: "=end", lineStart: true }],
  strings: [
    { ...dq, multiline: true },
    { ...sq, multiline: true },
  ],
};
const HASH: CommentSyntax = { line: ["#"], block: [], strings: [dq, sq] };
const SHELL: CommentSyntax = {
  line: ["#"],
  lineWordStart: true,
  block: [],
  strings: [
    { ...dq, multiline: true },
    { ...sq, escape: false, multiline: true },
  ],
};
const YAML: CommentSyntax = {
  line: ["#"],
  lineWordStart: true,
  block: [],
  strings: [
    { ...dq, wordStart: true },
    { ...sq, escape: false, wordStart: true },
  ],
};
const PHP: CommentSyntax = { line: ["//", "#"], block: [cBlock], strings: [dq, sq] };
const MARKUP: CommentSyntax = { line: [], block: [html], strings: [] };
const CSS: CommentSyntax = { line: [], block: [cBlock], strings: [dq, sq] };
const SCSS: CommentSyntax = { ...CSS, line: ["//"] };
const SQL: CommentSyntax = { line: ["--"], block: [cBlock], strings: [{ ...sq, escape: false, multiline: true }, dq] };
const LUA: CommentSyntax = { line: ["--"], block: [{ open: "--[[", close: "]]" }], strings: [dq, sq] };
const HASKELL: CommentSyntax = { line: ["--"], block: [{ open: "{-", close: "-}" }], nested: true, strings: [dq] };
const INI: CommentSyntax = { line: [";", "#"], lineWordStart: true, block: [], strings: [] };
/** Tcl strings span lines; `{...}` quoting is left alone, since braces mostly hold script bodies. */
const TCL: CommentSyntax = { line: ["#"], lineCommandStart: true, block: [], strings: [{ ...dq, multiline: true }] };
const TERRAFORM: CommentSyntax = { line: ["#", "//"], block: [cBlock], strings: [dq] };
/** Vue/Svelte single-file components: script comments and template comments in one file. */
const SFC: CommentSyntax = { ...JS, block: [cBlock, html], strings: JS.strings.map((s) => ({ ...s, wordStart: true })) };

const BY_EXTENSION: Record<string, CommentSyntax> = {};
function add(syntax: CommentSyntax, extensions: string): void {
  for (const ext of extensions.split(" ")) BY_EXTENSION[ext] = syntax;
}
add(JS, "js jsx mjs cjs ts tsx mts cts jsonc json5");
add(C, "c h cc cpp cxx hpp hxx hh ino m mm scala sc groovy gradle dart proto zig d");
add(GO, "go");
add(JAVA, "java");
add(KOTLIN, "kt kts swift");
add(RUST, "rs");
add(CSHARP, "cs");
add(PYTHON, "py pyi pyw");
/** Starlark (Bazel, Buck, Tilt) is a Python dialect: https://github.com/bazelbuild/starlark/blob/master/spec.md#lexical-elements */
add(PYTHON, "bzl bazel bzlmod star sky");
add(TCL, "tcl tk itcl tm exp");
add(RUBY, "rb rake gemspec");
add(SHELL, "sh bash zsh ksh fish");
add(HASH, "pl pm r toml tfvars cmake ex exs nim cr jl ps1 mk dockerfile");
add(YAML, "yml yaml");
add(PHP, "php");
add(MARKUP, "html htm xml xhtml svg md markdown mdx xsl xslt plist csproj");
add(CSS, "css");
add(SCSS, "scss less sass");
add(SQL, "sql");
add(LUA, "lua");
add(HASKELL, "hs elm");
add(INI, "ini cfg conf properties editorconfig");
add(TERRAFORM, "tf hcl");
add(SFC, "vue svelte astro");

const BY_NAME: Record<string, CommentSyntax> = {
  Dockerfile: HASH,
  Makefile: HASH,
  GNUmakefile: HASH,
  "CMakeLists.txt": HASH,
  Rakefile: RUBY,
  Gemfile: RUBY,
  Podfile: RUBY,
  Vagrantfile: RUBY,
  Jenkinsfile: C,
  BUILD: PYTHON,
  WORKSPACE: PYTHON,
  BUCK: PYTHON,
  Tiltfile: PYTHON,
  ".bazelrc": HASH,
  ".gitignore": HASH,
  ".gitattributes": HASH,
  ".dockerignore": HASH,
  ".npmrc": INI,
  ".env": SHELL,
  ".bashrc": SHELL,
  ".zshrc": SHELL,
  ".profile": SHELL,
};

/** JSON proper has no comments, but these well-known JSON files are read as JSON with comments. */
const JSONC_NAME =
  /^(?:tsconfig|jsconfig)(?:\..+)?\.json$|^\.(?:eslintrc|babelrc|swcrc)(?:\.json)?$|^(?:devcontainer|settings|launch|tasks)\.json$/;

/**
 * The comment syntax of a repo-relative path, from its file name or extension; `undefined` for
 * languages without comments (JSON, plain text) and for unknown ones.
 */
export function syntaxForPath(path: string): CommentSyntax | undefined {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const byName = BY_NAME[name];
  if (byName) return byName;
  if (JSONC_NAME.test(name)) return JS;
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const ext = name.slice(dot + 1).toLowerCase();
  return BY_EXTENSION[ext] ?? (name.startsWith("Dockerfile.") ? HASH : undefined);
}

/** Interpreters of `#!` lines, first match wins (`\b` so `bash` does not also read as `sh`). */
const SHEBANGS: [RegExp, CommentSyntax][] = [
  [/\bpython[\d.]*\b/, PYTHON],
  [/\bruby\b/, RUBY],
  [/\b(?:node|deno|bun|tsx|ts-node)\b/, JS],
  [/\b(?:tclsh|wish|expect)[\d.]*\b/, TCL],
  [/\bphp\b/, PHP],
  [/\blua(?:jit)?[\d.]*\b/, LUA],
  [/\b(?:perl|Rscript)\b/, HASH],
  [/\b(?:sh|bash|zsh|ksh|dash|fish)\b/, SHELL],
];

/**
 * The syntax of a file with no recognised name or extension, from its `#!` line
 * (`#!/usr/bin/env python3`, `#!/usr/bin/env tclsh`), so such scripts are scanned too; `undefined`
 * when there is none or the interpreter is unknown.
 */
export function syntaxForShebang(firstLine: string): CommentSyntax | undefined {
  if (!firstLine.startsWith("#!")) return undefined;
  return SHEBANGS.find(([pattern]) => pattern.test(firstLine))?.[1];
}

/** Whether a path has no extension (so its `#!` line is worth reading). */
export function hasNoExtension(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name.lastIndexOf(".") <= 0;
}

/** Extensions of data and prose that never start with `#!`: not worth reading for one. */
const NEVER_SCRIPT = new Set("json txt csv tsv log lock sum svg png jpg gif pdf patch diff rst adoc tex po pot".split(" "));

/**
 * Whether a file whose syntax the tables do not know (`syntaxForPath` gave none) may still be a
 * script whose `#!` line names its language: no extension, or one the table does not know
 * (`tools/run.cgi`, `bin/deploy.in`). Data and prose extensions are ruled out.
 */
export function mayHaveShebang(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot <= 0 || !NEVER_SCRIPT.has(name.slice(dot + 1).toLowerCase());
}
