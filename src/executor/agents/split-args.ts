import { BacklogBotError } from "../../util/errors.js";

/**
 * Splits a command line into words the way a POSIX shell would for plain words: whitespace
 * separates, single quotes keep everything literally, double quotes keep spaces and honour `\"`
 * and `\\`, and a backslash outside quotes escapes the next character. Nothing else a shell does
 * (variables, globs, pipes, `;`) happens: the words go to the program as they are, never to a shell.
 * @throws BacklogBotError `INVALID_SETTINGS` on an unterminated quote.
 */
export function splitArgs(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === "'") {
      if (char === "'") quote = null;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = null;
      else if (char === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) word += line[++i];
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) throw new BacklogBotError("INVALID_SETTINGS", `unterminated ${quote} quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}
