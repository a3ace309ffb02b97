// docs/bench-speed.svg: one panel per circuit, a horizontal bar per configuration (median proving
// time, seconds; each panel has its own scale). Plain SVG, no dependencies.
import { CONFIGS } from './report.mjs';

const COLORS = {
  'native-1': '#9aa5b1',
  'native-all': '#616e7c',
  'wasm-single': '#7cb7f0',
  'wasm-threads': '#1f6fc5',
  'snarkjs-single': '#f5b57a',
  'snarkjs-threads': '#d9731c',
};

const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderChart(doc) {
  const width = 760;
  const labelW = 170;
  const barH = 18;
  const gap = 6;
  const panelTop = 34;
  const panelH = panelTop + CONFIGS.length * (barH + gap) + 16;
  const height = 40 + doc.results.length * panelH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">Groth16 proving time, median seconds (shorter is faster), ${esc(doc.date.slice(0, 10))}, ${doc.machine.cores} cores</text>`,
  ];
  doc.results.forEach((row, i) => {
    const top = 40 + i * panelH;
    const max = Math.max(...row.configs.map((c) => c.medianMs || 0), 1);
    const scale = (width - labelW - 80) / max;
    out.push(`<text x="10" y="${top + 20}" font-size="13" font-weight="bold">${esc(row.circuit)} (${row.constraints} constraints)</text>`);
    CONFIGS.forEach(([name, label], j) => {
      const c = row.configs.find((r) => r.config === name);
      const y = top + panelTop + j * (barH + gap);
      out.push(`<text x="${labelW - 8}" y="${y + barH - 5}" text-anchor="end">${esc(label)}</text>`);
      if (!c) return;
      const w = Math.max(1, c.medianMs * scale);
      out.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[name]}"/>`);
      out.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + barH - 5}">${(c.medianMs / 1e3).toFixed(2)} s${c.cpu?.busy ? ' *' : ''}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
