/** Transcript parsing lives in src/util/transcript.ts (the executor publishes parsed lines); re-exported for the web layer. */
export { parseTranscript, parseTranscriptLine, readTranscript, type TranscriptEvent } from "../util/transcript.js";
