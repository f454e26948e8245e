/**
 * The live event bus lives in src/util/live-events.ts so the executor (a lower layer) can publish
 * to it; the web layer re-exports it here for its own modules and for callers that know it by this path.
 */
export { publish, subscribe, subscriberCount, transcriptPublisher, type WebEvent, type WebEventListener } from "../util/live-events.js";
