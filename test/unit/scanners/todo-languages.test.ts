import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scanTodos } from "../../../src/scanners/todo.js";
import type { Finding } from "../../../src/scanners/types.js";
import { commitFiles, initRepo, removeDir } from "../../fixtures/git-repo.js";

/**
 * One file per language. Every line holding a marker says what it expects: `yes-<id>` must be
 * found (its title is `yes-<id>`), `no-<id>` must not (it sits in a string, in code or in prose).
 */
const FILES: Record<string, string> = {
  "src/app.js": [
    'const s = "TODO: no-js-dq";',
    "const t = '// TODO no-js-sq';",
    "const u = `TODO: no-js-template",
    "// TODO: no-js-template-2`;",
    'const re = /"/; // TODO: yes-js-after-regex',
    "const half = a / b; // FIXME: yes-js-after-division",
    "// TODO(alice): yes-js-owner",
  ].join("\n"),
  "src/view.tsx": [
    'export const A = () => <div title="TODO: no-tsx">{/* FIXME: yes-tsx */}</div>;',
    "// TODO:yes-tsx-nospace",
    "export const B = () => <p>Don't panic</p>; // HACK: yes-tsx-after-apostrophe",
  ].join("\n"),
  "src/mod.mjs": ['export const x = "HACK: no-mjs"; // HACK: yes-mjs'].join("\n"),
  "src/mod.cjs": ["module.exports = '/* XXX: no-cjs */'; /* XXX: yes-cjs */"].join("\n"),
  "src/types.ts": ['type T = "TODO: no-ts";', "/**", " * Docs.", " * TODO: yes-ts-block", " */"].join("\n"),
  "py/app.py": [
    's = "TODO: no-py-dq"',
    "t = '# TODO no-py-sq'",
    "# TODO: yes-py",
    "def f():",
    '    """TODO: yes-py-docstring"""',
    '    x = """',
    "    TODO: no-py-triple-value",
    '    """',
  ].join("\n"),
  "go/main.go": [
    "package main",
    'var s = "// TODO: no-go"',
    "var r = `TODO: no-go-raw",
    "// TODO: no-go-raw-2`",
    "// TODO: yes-go",
    "/* multi",
    "   FIXME: yes-go-block */",
  ].join("\n"),
  "rs/lib.rs": [
    "fn f<'a>(x: &'a str) -> char { 'x' } // TODO: yes-rs-after-lifetime",
    'let s = "TODO: no-rs";',
    "/* outer /* inner */ HACK: yes-rs-nested */",
  ].join("\n"),
  "java/A.java": ['String s = "TODO: no-java"; // XXX: yes-java', 'String t = """', "  TODO: no-java-text-block", '  """;'].join("\n"),
  "kt/A.kt": ['val s = "TODO: no-kt"', "// TODO: yes-kt"].join("\n"),
  "c/a.c": ['char *s = "/* TODO: no-c */"; /* TODO: yes-c */'].join("\n"),
  "c/a.cpp": ["char q = '\"'; // BUG: yes-cpp-after-char", 'auto s = "// BUG: no-cpp";'].join("\n"),
  "cs/A.cs": ['var p = @"C:\\dir\\"; // TODO: yes-cs-after-verbatim', 'var s = "// TODO: no-cs";'].join("\n"),
  "rb/a.rb": ['s = "# TODO: no-rb"', "# TODO: yes-rb", "=begin", "FIXME: yes-rb-block", "=end"].join("\n"),
  "php/a.php": ["<?php", '$s = "// TODO no-php";', "# TODO: yes-php-hash", "// FIXME: yes-php-slash"].join("\n"),
  "sh/run.sh": ['echo "# TODO: no-sh-string"', "echo a#TODO: no-sh-word", "echo $#  $" + "{#arr[@]}  # TODO: yes-sh"].join("\n"),
  "ci/config.yml": ['key: "TODO: no-yml"', "url: http://example.com/#TODO: no-yml-fragment", "title: Don't stop # TODO: yes-yml"].join(
    "\n",
  ),
  "web/index.html": [
    '<p title="TODO: no-html-attr">TODO: no-html-text</p>',
    "<!-- TODO: yes-html -->",
    "<!--",
    "  FIXME: yes-html-multiline",
    "-->",
  ].join("\n"),
  "web/data.xml": ["<a>TODO: no-xml</a>", "<!-- TODO: yes-xml -->"].join("\n"),
  "docs/guide.md": ["TODO: no-md-prose", "```js", "// TODO: no-md-fenced", "```", "<!-- TODO: yes-md -->"].join("\n"),
  "web/site.css": ['a::after { content: "/* TODO: no-css */"; } /* TODO: yes-css */'].join("\n"),
  "db/q.sql": ["SELECT '-- TODO: no-sql' AS x; -- TODO: yes-sql", "/* HACK: yes-sql-block */"].join("\n"),
  "src/template.ts": [
    "const a = `text // TODO: no-ts-template-text ${",
    "  value // TODO: yes-ts-template-substitution",
    "} more // TODO: no-ts-template-after`;",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text is source code under test
    "const b = `${ { k: 1 }.k /* FIXME: yes-ts-template-object */ } ${`inner ${x /* HACK: yes-ts-template-nested */} // TODO: no-ts-nested-text`}`;",
    "// TODO: yes-ts-after-template",
  ].join("\n"),
  "tests/unit/type.tcl": [
    "# TODO: yes-tcl-line",
    'set s "# TODO: no-tcl-string"',
    "puts a#TODO: no-tcl-word",
    "set x 1 ;# FIXME: yes-tcl-after-semicolon",
    "proc f {} { # HACK: yes-tcl-in-body",
    "    puts hi # TODO: no-tcl-argument",
    "}",
  ].join("\n"),
  "bazel/BUILD.bazel": ['cc_library(name = "a")  # TODO: yes-bazel-build', 'x = "# TODO: no-bazel-string"'].join("\n"),
  "bazel/defs.bzl": ["def f():", '    """FIXME: yes-bzl-docstring"""', "    # TODO: yes-bzl-line"].join("\n"),
  WORKSPACE: ['workspace(name = "w")  # TODO: yes-workspace'].join("\n"),
  "utils/runtest": ["#!/usr/bin/env tclsh", "# TODO: yes-tclsh-shebang"].join("\n"),
  "tools/deploy.cgi": ["#!/usr/bin/perl", "print 'TODO: no-cgi-string'; # TODO: yes-cgi-shebang"].join("\n"),
  "tools/hook.in": ["#!/bin/sh", "echo ok # FIXME: yes-in-shebang"].join("\n"),
  "tools/unknown.xyz": ["no shebang here", "# TODO: no-unknown-without-shebang"].join("\n"),
  "notes.txt": "TODO: no-txt (plain text has no comments)",
  "data.json": '{ "TODO": "no-json" }',
};

function expectations(): { yes: Map<string, { path: string; line: number }>; no: string[] } {
  const yes = new Map<string, { path: string; line: number }>();
  const no: string[] = [];
  for (const [path, content] of Object.entries(FILES)) {
    content.split("\n").forEach((text, index) => {
      for (const id of text.match(/yes-[\w-]+/g) ?? []) yes.set(id, { path, line: index + 1 });
      no.push(...(text.match(/no-[\w-]+/g) ?? []));
    });
  }
  return { yes, no };
}

describe("scanTodos: comments versus strings, per language", () => {
  let dir: string;
  let findings: Finding[];
  const { yes, no } = expectations();

  beforeAll(async () => {
    dir = initRepo();
    commitFiles(dir, FILES);
    findings = (await scanTodos({ cwd: dir, blame: false })).findings;
  });
  afterAll(() => removeDir(dir));

  it.each([...yes.keys()])("finds %s", (id) => {
    const found = findings.filter((f) => f.title === id);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ kind: "todo", ...yes.get(id) });
  });

  it.each(no)("does not report %s", (id) => {
    expect(findings.filter((f) => f.title.includes(id) || f.body?.includes(id))).toEqual([]);
  });

  it("reports nothing else", () => {
    expect(findings).toHaveLength(yes.size);
  });

  it("records the marker, upper-cased, and the owner of TODO(owner)", () => {
    const owned = findings.find((f) => f.title === "yes-js-owner");
    expect(owned?.signals).toEqual({ marker: "TODO", owner: "alice" });
    expect(findings.find((f) => f.title === "yes-cpp-after-char")?.signals.marker).toBe("BUG");
  });
});
