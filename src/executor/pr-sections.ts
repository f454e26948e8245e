/**
 * The parts of a pull request body that backlog-bot rewrites when a follow-up brings new evidence:
 * each between two hidden HTML comments, `<!-- backlog-bot:NAME -->` and `<!-- /backlog-bot:NAME -->`
 * (invisible in the rendered body). Everything outside them — the rest of the bot's text, and
 * whatever a person added or edited there — is left as it is. Pure functions.
 */

/** The sections a follow-up rewrites: the warning at the top, the notes (rounds, attempts, fallbacks), and the Verification section. */
export const BOT_SECTIONS = ["headline", "notes", "verification"] as const;
/** One of `BOT_SECTIONS`. */
export type BotSection = (typeof BOT_SECTIONS)[number];

const openMarker = (name: BotSection) => `<!-- backlog-bot:${name} -->`;
const closeMarker = (name: BotSection) => `<!-- /backlog-bot:${name} -->`;

/** Untrusted text can never forge or close a marker: the bot's own content is built from escaped parts, and this removes any that slipped in. */
function unmark(content: string): string {
  return content.replace(/<!--\s*\/?backlog-bot:[a-z]+\s*-->/g, "");
}

/**
 * `content` between the section's markers; an empty section is the two markers alone (kept so a
 * later follow-up can fill it). Blank lines around the content keep Markdown blocks (a list, a
 * block quote) from running into the comment lines.
 */
export function markSection(name: BotSection, content: string): string {
  const text = unmark(content).trim();
  return text ? `${openMarker(name)}\n\n${text}\n\n${closeMarker(name)}` : `${openMarker(name)}\n${closeMarker(name)}`;
}

/**
 * Replaces the content of each given section in `body`. A section whose markers are missing (a
 * person deleted them, or the PR predates them) is added when it has content: the headline at the
 * top, the others at the end. Text outside the markers is kept byte for byte.
 * @returns the new body (equal to `body` when nothing changed).
 */
export function replaceSections(body: string, sections: Partial<Record<BotSection, string>>): string {
  let out = body;
  for (const name of BOT_SECTIONS) {
    const content = sections[name];
    if (content === undefined) continue;
    const start = out.indexOf(openMarker(name));
    const end = start < 0 ? -1 : out.indexOf(closeMarker(name), start);
    if (start >= 0 && end >= 0) {
      out = out.slice(0, start) + markSection(name, content) + out.slice(end + closeMarker(name).length);
    } else if (content.trim()) {
      out = name === "headline" ? `${markSection(name, content)}\n\n${out}` : `${out.trimEnd()}\n\n${markSection(name, content)}\n`;
    }
  }
  return out;
}
