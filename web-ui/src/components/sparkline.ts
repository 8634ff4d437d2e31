// A small SVG line chart for the dashboard's health figures (no chart library: a few points in a polyline).
import { svg, type SVGTemplateResult } from 'lit';

export function sparkline(values: number[], max: number, label: string): SVGTemplateResult {
  const w = 160;
  const h = 36;
  const pts = values.slice(-60);
  const step = pts.length > 1 ? w / (pts.length - 1) : w;
  const points = pts.map((v, i) => `${(i * step).toFixed(1)},${(h - (Math.min(v, max) / (max || 1)) * (h - 2) - 1).toFixed(1)}`).join(' ');
  return svg`<svg width=${w} height=${h} style="max-width:100%;height:auto" viewBox="0 0 ${w} ${h}" role="img" aria-label=${label}>
    <rect x="0" y="0" width=${w} height=${h} fill="#f4f6f8"></rect>
    <polyline points=${points} fill="none" stroke="#1d4f91" stroke-width="2"></polyline>
  </svg>`;
}
