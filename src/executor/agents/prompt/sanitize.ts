import { INVISIBLE } from "../../../util/invisible.js";
import { redact } from "../../../util/logger.js";
import { stripLinkTargets } from "./markdown.js";
import { stripBlocks, stripMath } from "./markdown-blocks.js";

/** Elements whose content never renders, or renders only on a click a reviewer may never make. */
const HIDDEN_ELEMENTS = new Set([
  "details",
  "script",
  "style",
  "template",
  "noscript",
  "iframe",
  "object",
  "svg",
  "math",
  "textarea",
  "select",
]);
/** Elements with no content or closing tag: a hidden one goes alone. */
const VOID_ELEMENTS = new Set([
  "area",
  "base",
  "br",
  "col",
  "embed",
  "hr",
  "img",
  "input",
  "link",
  "meta",
  "param",
  "source",
  "track",
  "wbr",
]);
/** Attributes that hide an element: `hidden`, `aria-hidden`, and inline styles that make it invisible. */
const HIDING_ATTRIBUTE =
  /(?:^|\s)hidden(?=[\s=/]|$)|aria-hidden\s*=\s*["']?true|style\s*=\s*["']?[^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0|height\s*:\s*0|width\s*:\s*0|color\s*:\s*transparent)/i;
/** A tag's attribute list as CommonMark accepts it (https://spec.commonmark.org/0.31.2/#attribute). */
const ATTRIBUTES = /^(?:\s+[A-Za-z_:][\w:.-]*(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*\/?$/;
/** An opening or closing HTML tag; attributes may hold `>` inside quotes. */
const TAG = /<(\/?)([A-Za-z][\w-]*)((?:"[^"]*"|'[^']*'|[^'"<>]){0,2000})>/g;

/** Named character references that stand for an invisible character (HTML's entity table). */
const INVISIBLE_NAMED_ENTITIES =
  /&(?:ZeroWidthSpace|NegativeVeryThinSpace|NegativeThinSpace|NegativeMediumSpace|NegativeThickSpace|zwj|zwnj|lrm|rlm|shy|NoBreak|InvisibleTimes|InvisibleComma|ApplyFunction|it|ic|af);/g;

/** Drops character references to invisible characters, so `&#8203;` or `&zwj;` goes like the character itself. */
function dropInvisibleEntities(text: string): string {
  return text.replace(INVISIBLE_NAMED_ENTITIES, "").replace(/&#(x[0-9a-f]+|\d+);/gi, (whole, code: string) => {
    const point = code[0]?.toLowerCase() === "x" ? Number.parseInt(code.slice(1), 16) : Number(code);
    if (!Number.isFinite(point) || point > 0x10ffff) return whole;
    const char = String.fromCodePoint(point);
    INVISIBLE.lastIndex = 0;
    return INVISIBLE.test(char) ? "" : whole;
  });
}

/**
 * Removes every element that does not render (`<details>`, `<script>`, `hidden`, `display:none`...)
 * with its content, nested same-name tags included; an unclosed one takes the rest of the text,
 * since a renderer would hide that too.
 */
function removeHiddenElements(text: string): string {
  let out = text;
  // Nothing before `from` opens a hidden element, so each pass resumes there: linear, and no cap to slip past.
  let from = 0;
  for (;;) {
    TAG.lastIndex = from;
    let match = TAG.exec(out);
    while (match) {
      const [, slash, tagName = "", attrs = ""] = match;
      if (!slash && (HIDDEN_ELEMENTS.has(tagName.toLowerCase()) || HIDING_ATTRIBUTE.test(attrs))) break;
      match = TAG.exec(out);
    }
    if (!match) return out;
    const start = match.index;
    const name = (match[2] ?? "").toLowerCase();
    let end = start + match[0].length;
    if (!match[0].endsWith("/>") && !VOID_ELEMENTS.has(name)) {
      let depth = 1;
      end = out.length;
      let inner = TAG.exec(out);
      while (inner) {
        if ((inner[2] ?? "").toLowerCase() === name) depth += inner[1] ? -1 : 1;
        if (depth === 0) {
          end = inner.index + inner[0].length;
          break;
        }
        inner = TAG.exec(out);
      }
    }
    out = out.slice(0, start) + out.slice(end);
    from = start;
  }
}

/**
 * Keeps a tag's name only: titles, alt text, data-* and event attributes can carry text no reader
 * sees, and so can an `href` or `src`. An `<a>` goes whole (its text stays), an `<img>` becomes `[image]`.
 */
function stripAttributes(text: string): string {
  return text.replace(TAG, (whole: string, slash: string, name: string, attrs: string) => {
    // Not an HTML tag by CommonMark's rules (e.g. a generic `Map<K, V>`): it renders as the text it is.
    if (!ATTRIBUTES.test(attrs)) return whole;
    const lower = name.toLowerCase();
    if (lower === "img") return "[image]";
    return lower === "a" ? "" : `<${slash}${name}>`;
  });
}

/**
 * Markdown: images become `[image]`, links their text (markdown.ts); math, fence info strings and
 * reference definitions (never rendered, e.g. `[//]: # (...)`) go (markdown-blocks.ts); footnotes
 * (`[^1]: ...`) render, so they stay. Fenced code GitHub certainly shows as code is left as typed.
 */
function stripMarkdownHiding(text: string): string {
  return stripBlocks(text, (prose) => stripLinkTargets(stripMath(prose)));
}

/**
 * Makes untrusted text (issue bodies, comments, instructions, repository files) safe to show a
 * model: removes what a human reviewer would not see (HTML comments, invisible and bidi
 * characters, hidden elements and attributes, image alt text, link destinations and titles,
 * reference labels and definitions, fence info strings, math) and redacts
 * token-shaped strings with `redact` from util/logger.ts. What remains is what GitHub renders.
 */
export function sanitizeUntrusted(text: string): string {
  let out = text.normalize("NFC").replace(/\r\n?/g, "\n");
  out = dropInvisibleEntities(out).replace(INVISIBLE, "");
  // An unterminated comment hides the rest of the text when rendered, so it is cut to the end.
  out = out.replace(/<!--[\s\S]*?(?:-->|$)/g, "").replace(/<!\[CDATA\[[\s\S]*?(?:\]\]>|$)/g, "");
  // Processing instructions and declarations (`<?php ...?>`, `<!DOCTYPE ...>`) render as nothing.
  out = out.replace(/<\?[\s\S]*?(?:\?>|$)/g, "").replace(/<![A-Za-z][^>]*(?:>|$)/g, "");
  out = removeHiddenElements(out);
  out = stripAttributes(out);
  out = stripMarkdownHiding(out);
  // Long blank runs carry nothing, and redact's look-behind rescans them at every position.
  out = out.replace(/\s{64,}/g, (run) => (run.includes("\n") ? "\n\n" : " "));
  return redact(out)
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * The lighter pass for source code, where HTML and Markdown are content, not markup: only
 * invisible and bidi characters go (they can make code read differently from how it runs), and
 * token-shaped strings are redacted.
 */
export function sanitizeCode(text: string): string {
  return redact(text.replace(/\r\n?/g, "\n").replace(INVISIBLE, ""));
}

/**
 * Wraps sanitised data in a tagged section. Inside the data every `<tag` or `</tag` that could
 * open or close one of the prompt's sections (fullwidth look-alikes included) is escaped as
 * `&lt;`, so the data cannot end its fence early or forge another section. Attribute values keep
 * only word characters, spaces and `./:#()[],+@-`, so they cannot end the tag either.
 * @param sectionTags - every tag name the prompt uses for sections.
 */
export function fence(tag: string, data: string, sectionTags: readonly string[], attributes: Record<string, string | number> = {}): string {
  const names = [...new Set([...sectionTags, tag])].map((name) => name.replace(/[^\w-]/g, "")).join("|");
  const opener = new RegExp(`[<\\uFF1C\\uFE64\\u2329\\u3008]\\s*(\\/?)\\s*(?=(?:${names})\\b)`, "giu");
  const escaped = data.replace(opener, "&lt;$1");
  const attrs = Object.entries(attributes)
    .map(([key, value]) => ` ${key}="${String(value).replace(/[^\w ./:#()[\],+@-]/g, "")}"`)
    .join("");
  return `<${tag}${attrs}>\n${escaped}\n</${tag}>`;
}
