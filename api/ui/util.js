// Small helpers shared by the views: escaping, element building, formatting, SVG sparklines.

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// A highlight snippet from the API is HTML-escaped text with <em>…</em> marks. Split on the marks and
// escape each text piece again after decoding it: only <em>…</em> is ever markup, whatever arrives.
const ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'" };
const unescapeHtml = (s) => s.replace(/&(?:amp|lt|gt|quot|#x27|#39);/g, (e) => ENTITIES[e]);
export function highlight(snippet) {
  return String(snippet ?? "")
    .split(/(<\/?em>)/)
    .map((part) => (part === "<em>" || part === "</em>" ? part : esc(unescapeHtml(part))))
    .join("");
}

export function el(html) {
  const t = document.createElement("template");
  t.innerHTML = html.trim();
  return t.content.firstElementChild;
}

// The server counts characters as code points; JS strings index UTF-16 units (an emoji is two), so
// every offset from the API slices an array of code points, never the string itself.
export const codePoints = (text) => Array.from(String(text ?? ""));
const clampTo = (n, x) => Math.max(0, Math.min(n, Number(x) || 0));

// [before, <mark>span</mark>, after] for one code-point span; text nodes only.
export function markedText(text, start, end) {
  const chars = codePoints(text);
  const from = clampTo(chars.length, start);
  const to = Math.max(from, clampTo(chars.length, end));
  const mark = document.createElement("mark");
  mark.textContent = chars.slice(from, to).join("");
  return [chars.slice(0, from).join(""), mark, chars.slice(to).join("")];
}

// Overlapping spans ({start, end, ...} in code points) cut the text at every boundary: each segment
// is {text, start, end, spans} with the spans that cover it whole, in the order given.
export function segments(text, spans) {
  const chars = codePoints(text);
  const n = chars.length;
  const valid = (spans || []).map((s) => ({ ...s, start: clampTo(n, s.start), end: clampTo(n, s.end) }))
    .filter((s) => s.end > s.start);
  const cuts = [...new Set([0, n, ...valid.flatMap((s) => [s.start, s.end])])].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [start, end] = [cuts[i], cuts[i + 1]];
    out.push({ text: chars.slice(start, end).join(""), start, end,
      spans: valid.filter((s) => s.start <= start && s.end >= end) });
  }
  return out;
}

export const pct = (x) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);
export const num = (x) => (x == null ? "–" : Number(x).toLocaleString("zh-CN"));
export const day = (ts) => (ts ? String(ts).slice(0, 10) : "");

export const SOURCE_LABELS = { survey: "问卷 survey", hotline: "热线 hotline", review: "评论 review" };
export const SENTIMENT_LABELS = { negative: "负面 negative", neutral: "中性 neutral", positive: "正面 positive" };

// An inline SVG sparkline of counts; the bars of the last point are emphasised.
export function sparkline(values, { width = 120, height = 28, label = "趋势 trend" } = {}) {
  const n = values.length;
  if (!n) return `<svg class="spark" width="${width}" height="${height}" role="img" aria-label="${esc(label)}"></svg>`;
  const max = Math.max(1, ...values);
  const step = n > 1 ? (width - 2) / (n - 1) : 0;
  const pts = values.map((v, i) => `${(1 + i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
  const [lx, ly] = pts[n - 1].split(",");
  return `<svg class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img"
    aria-label="${esc(label)}: ${values.join(", ")}"><polyline fill="none" stroke="currentColor" stroke-width="1.5"
    points="${pts.join(" ")}"/><circle cx="${lx}" cy="${ly}" r="2.2" fill="currentColor"/></svg>`;
}

// A small horizontal bar for a share in [0, 1].
export function bar(share, cls = "") {
  const w = Math.max(0, Math.min(1, share || 0)) * 60;
  return `<svg class="bar ${cls}" width="60" height="8" aria-hidden="true"><rect width="60" height="8" class="bg"/>` +
    `<rect width="${w.toFixed(1)}" height="8" class="fg"/></svg>`;
}
