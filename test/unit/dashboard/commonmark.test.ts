import { Parser } from "commonmark";
import { describe, expect, it } from "vitest";
import { renderDashboard } from "../../../src/dashboard/index.js";
import { rankBacklog } from "../../../src/prioritizer/index.js";
import { fullState, NOW, row } from "./fixtures.js";

/**
 * The dashboard as GitHub reads it: parsed by commonmark.js, CommonMark's reference parser (GitHub's
 * cmark-gfm follows the same block rules and adds task lists, tables and autolinks on top).
 */
function parse(body: string) {
  const blocks: { type: string; literal: string; inItem: boolean }[] = [];
  const boxes: { marker: string; asCheckbox: boolean }[] = [];
  const links: string[] = [];
  const walker = new Parser().parse(body).walker();
  for (let event = walker.next(); event; event = walker.next()) {
    const node = event.node;
    if (!event.entering) continue;
    if (node.type === "link") links.push(node.destination ?? "");
    if (node.type !== "html_block" && node.type !== "html_inline") continue;
    const literal = node.literal ?? "";
    blocks.push({ type: node.type, literal, inItem: node.parent?.parent?.type === "item" || node.parent?.type === "item" });
    for (const m of literal.matchAll(/<!-- bb:[a-z]+(?:=\d+)? -->/g)) {
      // A task-list checkbox: the comment inline, right after "[ ] " at the start of a list item's paragraph.
      let before = "";
      for (let sibling = node.prev; sibling; sibling = sibling.prev) before = (sibling.literal ?? "\0") + before;
      const asCheckbox =
        node.type === "html_inline" && node.parent?.type === "paragraph" && node.parent.parent?.type === "item" && before === "[ ] ";
      boxes.push({ marker: m[0], asCheckbox });
    }
  }
  return { blocks, boxes, links };
}

/** Every tag in raw HTML the render may write; anything else in an HTML node came from untrusted text. */
const ALLOWED =
  /^(?:<!-- (?:bb:[a-z]+(?:=\d+)?|backlog-bot:dashboard) -->|<\/?details>|<\/?summary>|<a href="https:\/\/github\.com\/[^"<>]*">|<\/a>)/;

function strayTags(html: string): string[] {
  const stray: string[] = [];
  for (let i = html.indexOf("<"); i >= 0; i = html.indexOf("<", i + 1)) {
    if (!ALLOWED.test(html.slice(i))) stray.push(html.slice(i, i + 30));
  }
  return stray;
}

describe("the dashboard as CommonMark parses it", () => {
  it("makes every box a task-list checkbox: a row's score details come last and hold no Markdown, so they swallow no dismiss box", () => {
    const body = renderDashboard(fullState());
    const { boxes, blocks } = parse(body);
    expect(boxes.length).toBeGreaterThanOrEqual(8);
    expect(boxes.filter((b) => !b.asCheckbox)).toEqual([]);
    for (const marker of ["bb:start=1 ", "bb:dismiss=1 ", "bb:start=10 ", "bb:dismiss=10 ", "bb:rescan "])
      expect(boxes.some((b) => b.marker.includes(marker))).toBe(true);
    // The grouped row's other locations are links in its details, and no Markdown is left unparsed there.
    const details = blocks.filter((b) => b.literal.includes("<details>"));
    expect(details.length).toBeGreaterThan(0);
    expect(details.every((b) => b.type === "html_block" && b.inItem)).toBe(true);
    const grouped = details.find((b) => b.literal.includes("Also at")) as { literal: string };
    expect(grouped.literal).toContain('<a href="https://github.com/o/r/blob/abc123/test/t1.ts#L3">test/t1.ts:3</a>');
    expect(details.map((b) => b.literal).join("")).not.toMatch(/\]\(|\\[<>()[\]]/);
  });

  it("lets no file name, title or reason inject HTML, and links paths with parentheses whole", () => {
    const evil = "</details ><h1 >INJECTED</h1 ><img src=https://evil.example/p.png >";
    const rows = [
      row(1, { title: "dup text", path: "a/ok.ts", line: 3 }),
      row(2, { title: "dup text", path: `b/${evil}.ts`, line: 4 }),
      row(3, { title: `title ${evil} @org/team #12`, path: "c/a).ts", line: 5 }),
      row(4, { title: "paren", path: "d/b(.ts", line: 6 }),
    ];
    const body = renderDashboard({ ...fullState(), backlog: rankBacklog(rows, NOW), tasks: [] });
    const { blocks, boxes, links } = parse(body);
    expect(blocks.flatMap((b) => strayTags(b.literal))).toEqual([]);
    expect(boxes.filter((b) => !b.asCheckbox)).toEqual([]);
    expect(body).not.toContain("@org");
    expect(body).not.toContain("#12");
    expect(links).toContain("https://github.com/o/r/blob/abc123/c/a%29.ts#L5");
    expect(links).toContain("https://github.com/o/r/blob/abc123/d/b%28.ts#L6");
    // The hostile name is still shown, as text, in the grouped row's details.
    expect(blocks.some((b) => b.literal.includes("b/&lt;/details &gt;&lt;h1 &gt;INJECTED"))).toBe(true);
  });

  it("shows no bidi override or control character of a title or path, in the list or the details", () => {
    // Two rows of one text: the second's path appears only in the group's details (raw HTML).
    const rows = [
      row(1, { title: "fix \u202enigol\u202c now", path: "a/ok.ts", line: 3 }),
      row(2, { title: "fix \u202enigol\u202c now", path: "b/\u2066x\u2069\u001b[31m.ts", line: 4 }),
    ];
    const body = renderDashboard({ ...fullState(), backlog: rankBacklog(rows, NOW), tasks: [] });
    for (const c of ["\u202e", "\u202c", "\u2066", "\u2069", "\u001b"]) expect(body).not.toContain(c);
    expect(body).toContain("fix nigol now");
    expect(body).toContain("b/x[31m.ts");
  });
});
