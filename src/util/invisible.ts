/**
 * Characters a reader does not see but a model does: zero-width and joiners, bidi embeddings,
 * overrides and isolates (Trojan Source, CVE-2021-42574), word joiners and invisible operators,
 * the BOM, soft hyphen, Mongolian vowel separator, variation selectors and the Unicode "tag"
 * block (U+E0000-E007F, used for ASCII smuggling), plus C0/C1 controls other than tab and newline.
 */
export const INVISIBLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this pattern's job.
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each joiner and selector is listed on purpose, to be removed alone.
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFFB]|[\u{E0000}-\u{E007F}\u{E0100}-\u{E01EF}]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/gu;

/**
 * Text safe to print on a terminal: repository content (TODO text, file names), issue titles, error
 * messages and agents' output are untrusted, and a control character in them is a command to the
 * terminal (ESC sequences clear the screen, retitle the window, or in some terminals write files;
 * a carriage return overwrites what was printed), while bidi overrides reorder what is shown. Every
 * character `INVISIBLE` lists and carriage returns are dropped; newlines and tabs stay.
 */
export function terminalText(text: string): string {
  return text.replace(INVISIBLE, "").replace(/\r/g, "");
}
