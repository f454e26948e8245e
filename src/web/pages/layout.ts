import type { Viewer } from "../auth/access.js";
import { html, raw, type SafeHtml } from "./html.js";

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center}
header a{color:#fff;text-decoration:none}header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center}
main{max-width:72rem;margin:1rem auto;padding:0 1.2rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:.6rem 0}
.figures{display:flex;gap:.8rem;flex-wrap:wrap}.figures .card{flex:1;min-width:10rem}.figures b{display:block;font-size:1.5rem}
.state{display:inline-block;border-radius:1em;padding:0 .6em;background:#ddf4ff;font-size:.85em}
.state.failed,.state.closed,.state.cancelled{background:#ffebe9}.state.merged,.state.pr_open{background:#dafbe1}
.breakdown{font-size:.85em;color:#57606a;margin:.2rem 0 0;padding-left:1rem}
form.inline{display:inline}button{cursor:pointer;border:1px solid #d0d7de;border-radius:6px;background:#f6f8fa;padding:.15rem .6rem}
button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}
.msg{margin:.4rem 0;padding:.5rem .8rem;border-radius:6px;background:#fff;border:1px solid #d0d7de;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.assistant{border-left:4px solid #0969da}.msg.user{border-left:4px solid #8250df}.msg.system{color:#57606a}
details.tool{margin:.3rem 0 .3rem 1.5rem}details.tool pre,.text pre{white-space:pre-wrap;overflow-wrap:anywhere;max-height:30rem;overflow:auto;background:#f6f8fa;padding:.5rem}
.err{color:#cf222e}.muted{color:#57606a}nav.pages{margin:.6rem 0;display:flex;gap:1rem}
`;

/** The page frame: navigation, the signed-in person, and `body`. `csrf` is put in a meta tag for scripts. */
export function layout(title: string, viewer: Viewer, body: SafeHtml, options: { csrf?: string; script?: boolean } = {}): string {
  const who =
    viewer.kind === "user"
      ? html`<span>@${viewer.actor}</span><form class="inline" method="post" action="/logout"><input type="hidden" name="_csrf" value="${options.csrf ?? ""}"><button>Sign out</button></form>`
      : html`<span>operator token</span>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · backlog-bot</title>${options.csrf ? html`<meta name="csrf-token" content="${options.csrf}">` : ""}<style>${raw(STYLE)}</style></head>
<body><header><a href="/"><b>backlog-bot</b></a><a href="/">Overview</a><a href="/outcomes">Outcomes</a><a href="/audit">Audit log</a><span class="who">${who}</span></header>
<main>${body}</main>${options.script ? raw('<script src="/static/live.js" defer></script>') : ""}</body></html>`.value;
}

/** The sign-in page (also shown when sign-in is not configured, saying so). */
export function signInPage(configured: boolean, returnTo: string): string {
  const body = configured
    ? html`<p><a href="/login?return_to=${encodeURIComponent(returnTo)}"><button class="primary">Sign in with GitHub</button></a></p>`
    : html`<p>Sign-in with GitHub is not configured on this server (set <code>GITHUB_CLIENT_ID</code> and <code>GITHUB_CLIENT_SECRET</code>). The API accepts <code>BACKLOG_BOT_API_TOKEN</code>.</p>`;
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · backlog-bot</title><style>${raw(STYLE)}</style></head>
<body><main><h1>backlog-bot</h1><p>Sign in to see the backlogs and agent runs of the repositories you can read on GitHub.</p>${body}</main></body></html>`
    .value;
}
