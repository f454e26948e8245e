import { describe, expect, it } from "vitest";
import { commentAt, findComments } from "../../../src/scanners/comment-lexer.js";
import { mayHaveShebang, syntaxForPath, syntaxForShebang } from "../../../src/scanners/comment-syntax.js";
import { extractTodos, looksMinified, markerPattern } from "../../../src/scanners/todo-extract.js";

function comments(path: string, text: string): string[] {
  const syntax = syntaxForPath(path);
  if (!syntax) throw new Error(`no syntax for ${path}`);
  return findComments(text, syntax).map((s) => text.slice(s.start, s.end));
}

describe("findComments", () => {
  it("recovers at the end of the line from an unterminated string", () => {
    expect(comments("a.c", 'char *s = "oops;\n// next\n')).toEqual(["// next"]);
  });

  it("honours backslash escapes in strings, and their absence in raw strings", () => {
    expect(comments("a.js", "s = 'it\\'s // no'; t = \"a\\\\\" // yes")).toEqual(["// yes"]);
    expect(comments("a.go", "r := `C:\\` // yes")).toEqual(["// yes"]);
  });

  it("runs an unterminated block comment to the end of the file", () => {
    expect(comments("a.go", "x := 1 /* open\nTODO: x\n")).toEqual(["/* open\nTODO: x\n"]);
  });

  it("nests block comments only where the language does", () => {
    expect(comments("a.rs", "/* a /* b */ c */ d")).toEqual(["/* a /* b */ c */"]);
    expect(comments("a.c", "/* a /* b */ c */ d")).toEqual(["/* a /* b */"]);
  });

  it("tells a JavaScript regular expression from a division", () => {
    expect(comments("a.js", "x = a / b; y = c / d // one\nif (/\\/\\/ no/.test(s)) {} // two")).toEqual(["// one", "// two"]);
  });

  it("lexes a template literal's substitutions as code, to any depth, and its text as text", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is source code under test
    expect(comments("a.ts", "`a // no ${b // one\n} c // no` // two")).toEqual(["// one", "// two"]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is source code under test
    expect(comments("a.ts", "`${ {a: `${ f({}) /* deep */ }`} } /* x */` // after")).toEqual(["/* deep */", "// after"]);
    expect(comments("a.ts", "`\\${ // not a substitution` // real")).toEqual(["// real"]);
    expect(comments("a.go", "s := `${ // raw` // go")).toEqual(["// go"]);
  });

  it("opens a Tcl comment only where a command may start", () => {
    expect(comments("a.tcl", "# one\nputs a # no\nset x 1;# two\nif {1} {# three\n}\n")).toEqual(["# one", "# two", "# three"]);
  });

  it("stops lexing after `until`, but finishes the comment it is in", () => {
    const text = "/* a\nb */\n// c\n// d\n";
    const syntax = syntaxForPath("a.ts");
    if (!syntax) throw new Error("no syntax");
    const segments = findComments(text, syntax, 2);
    expect(segments.map((s) => text.slice(s.start, s.end))).toEqual(["/* a\nb */"]);
    expect(commentAt(segments, 6)?.open).toBe("/*");
    expect(commentAt(segments, 12)).toBeUndefined();
  });

  it("reads extension-less scripts by their #! line and knows well-known file names", () => {
    expect(syntaxForShebang("#!/usr/bin/env python3")?.line).toEqual(["#"]);
    expect(syntaxForShebang("#!/bin/bash")?.lineWordStart).toBe(true);
    expect(syntaxForShebang("no shebang")).toBeUndefined();
    expect(syntaxForShebang("#!/usr/bin/env tclsh8.6")?.lineCommandStart).toBe(true);
    expect(syntaxForShebang("#!/usr/bin/awk -f")).toBeUndefined();
    expect(syntaxForPath("third_party/BUILD.bazel")?.line).toEqual(["#"]);
    expect(syntaxForPath("tools/defs.bzl")?.line).toEqual(["#"]);
    expect(syntaxForPath("MODULE.bazel")?.line).toEqual(["#"]);
    expect(mayHaveShebang("bin/run")).toBe(true);
    expect(mayHaveShebang("bin/run.cgi")).toBe(true);
    expect(mayHaveShebang("data/x.json")).toBe(false);
    expect(mayHaveShebang("README.txt")).toBe(false);
    expect(syntaxForPath("docker/Dockerfile")?.line).toEqual(["#"]);
    expect(syntaxForPath("tsconfig.json")?.line).toEqual(["//"]);
    expect(syntaxForPath("package.json")).toBeUndefined();
  });
});

describe("extractTodos", () => {
  const pattern = markerPattern(["TODO", "FIXME"]);
  const syntax = syntaxForPath("a.ts");
  if (!syntax) throw new Error("no syntax");

  it("uses the next comment line as the title when the marker line has no text", () => {
    expect(extractTodos("// TODO:\n// rename this\n// and that\n", syntax, pattern)).toEqual([
      { line: 1, marker: "TODO", text: "rename this", body: "and that" },
    ]);
  });

  it("ends a body at a blank comment line, code, or the next marker", () => {
    const text = "// TODO: a\n// a2\n//\n// not body\n/* FIXME: b\n * b2\n * TODO: c\n */\n";
    expect(extractTodos(text, syntax, pattern)).toEqual([
      { line: 1, marker: "TODO", text: "a", body: "a2" },
      { line: 5, marker: "FIXME", text: "b", body: "b2" },
      { line: 7, marker: "TODO", text: "c" },
    ]);
  });

  it("ignores markers on lines too long to be hand-written, and flags minified text", () => {
    expect(extractTodos(`${"x".repeat(1200)} // TODO: long`, syntax, pattern)).toEqual([]);
    expect(looksMinified(`${"a=1;".repeat(3000)}\n`)).toBe(true);
    expect(looksMinified("const a = 1;\n".repeat(1000))).toBe(false);
  });
});
