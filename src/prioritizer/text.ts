/** Whitespace other than single spaces: only then does the text need collapsing. */
const UNEVEN_SPACE = /[^\S ]| {2}/;
/** Characters that may start (`LEAD`) or end (`TRAIL`) a text and are dropped, after whitespace is collapsed to spaces. */
const LEAD = " :>-";
const TRAIL = " .:;,!?…-";

/**
 * Lower-cased, whitespace collapsed, leading `:>-` and trailing punctuation dropped: "Add test."
 * and "add  test" are one text. Most titles are already in this form; they are returned as they
 * are, without the three regular-expression passes (a tenth of the ranking at 100,000 findings).
 */
export function normaliseText(text: string): string {
  let out = text.toLowerCase();
  if (UNEVEN_SPACE.test(out)) out = out.replace(/\s+/g, " ");
  if (out.length > 0 && (LEAD.includes(out.charAt(0)) || TRAIL.includes(out.charAt(out.length - 1)))) {
    out = out.replace(/^[\s:>-]+|[\s.:;,!?…-]+$/g, "");
  }
  return out;
}
