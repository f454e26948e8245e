import { html, type SafeHtml } from "./html.js";

/** One series of a bar chart. */
export interface Series {
  name: string;
  color: string;
  values: number[];
}

/**
 * A grouped bar chart as inline SVG (no script, no library): one group per label, one bar per
 * series, a y axis to the largest value, and a legend. Titles on bars give exact values.
 */
export function barChart(title: string, labels: string[], series: Series[], unit = ""): SafeHtml {
  const width = 640;
  const height = 200;
  const left = 40;
  const bottom = 30;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const groupW = (width - left) / Math.max(1, labels.length);
  const barW = Math.max(2, (groupW - 6) / Math.max(1, series.length));
  const y = (v: number) => (height - bottom) * (1 - v / max);
  const bars = labels.flatMap((label, i) =>
    series.map((s, j) => {
      const v = s.values[i] ?? 0;
      const x = left + i * groupW + 3 + j * barW;
      return html`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(height - bottom - y(v)).toFixed(1)}" fill="${s.color}"><title>${label} ${s.name}: ${v}${unit}</title></rect>`;
    }),
  );
  const ticks = labels.map((label, i) =>
    i % Math.ceil(labels.length / 8) === 0
      ? html`<text x="${(left + i * groupW + 2).toFixed(1)}" y="${height - 12}" font-size="10">${label.slice(5)}</text>`
      : "",
  );
  return html`<figure class="card"><figcaption><b>${title}</b> ${series.map((s) => html`<span style="color:${s.color}">■ ${s.name}</span> `)}</figcaption>
<svg role="img" aria-label="${title}" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">
<line x1="${left}" y1="0" x2="${left}" y2="${height - bottom}" stroke="#d0d7de"/><line x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" stroke="#d0d7de"/>
<text x="2" y="10" font-size="10">${Number.isInteger(max) ? max : max.toFixed(2)}${unit}</text><text x="2" y="${height - bottom}" font-size="10">0</text>
${bars}${ticks}</svg></figure>`;
}
