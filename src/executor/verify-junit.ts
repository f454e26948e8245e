import { XMLParser } from "fast-xml-parser";
import { failureIds, type TestReport } from "./verify-parse.js";

/**
 * JUnit XML, the report format most runners can write (pytest `--junitxml`, vitest
 * `--reporter=junit`, node:test `--test-reporter=junit`, Maven Surefire's `TEST-*.xml`). There is no
 * single standard; the common shape (https://github.com/testmoapp/junitxml) is `testsuites >
 * testsuite* > testcase*`, where a testcase holding `failure` or `error` failed and one holding
 * `skipped` was skipped. Suites may nest (node:test's `describe`).
 */

/** Reports larger than this (bytes) are not parsed: the exit code and output tail still tell the story. */
export const MAX_JUNIT_BYTES = 20 * 1024 * 1024;

interface XmlNode {
  [key: string]: unknown;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  // Elements that may repeat are always arrays, so one testcase and many look alike.
  isArray: (name) => ["testsuite", "testcase", "failure", "error", "skipped"].includes(name),
  // fast-xml-parser's defaults bound entity expansion and nesting depth (untrusted input).
});

function children(node: XmlNode, name: string): XmlNode[] {
  const value = node[name];
  return Array.isArray(value) ? (value.filter((v) => v !== null && v !== undefined) as XmlNode[]) : [];
}

function has(node: XmlNode, name: string): boolean {
  return node[name] !== undefined;
}

function attr(node: XmlNode, name: string): string {
  const value = node[`@_${name}`];
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

/**
 * Counts and failing tests of one or more JUnit XML documents (Surefire writes one per class).
 * A test's identity is its enclosing suites' names, its classname (when it adds something) and its
 * name, joined by ` > `.
 * @returns null when no document holds a testcase (not JUnit, empty, or malformed).
 */
export function parseJUnit(documents: readonly string[]): TestReport | null {
  let passed = 0;
  let skipped = 0;
  let total = 0;
  const failed: string[] = [];
  const visit = (node: XmlNode, path: string[]) => {
    for (const testcase of children(node, "testcase")) {
      total++;
      const classname = attr(testcase, "classname");
      const parts = [...path, ...(classname && classname !== path.at(-1) ? [classname] : []), attr(testcase, "name")];
      if (has(testcase, "failure") || has(testcase, "error")) failed.push(parts.join(" > "));
      else if (has(testcase, "skipped")) skipped++;
      else passed++;
    }
    for (const suite of children(node, "testsuite")) visit(suite, [...path, attr(suite, "name")].filter(Boolean));
  };
  for (const xml of documents) {
    if (xml.length > MAX_JUNIT_BYTES) continue;
    let doc: XmlNode;
    try {
      doc = parser.parse(xml) as XmlNode;
    } catch {
      continue; // a half-written or foreign file: ignore it, the output parsers may still help
    }
    const roots = doc.testsuites as XmlNode | XmlNode[] | undefined;
    for (const root of Array.isArray(roots) ? roots : roots && typeof roots === "object" ? [roots] : []) visit(root, []);
    visit(doc, []);
  }
  if (total === 0) return null;
  return { format: "junit", passed, failed: failed.length, skipped, failures: failureIds(failed) };
}
