// Topics: the list (label, size, negative share, trend sparkline; emerging ones highlighted) and one topic.
import { api } from "./api.js";
import { bar, el, esc, num, pct, sparkline } from "./util.js";

async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]).catch(() => null); }
  }));
  return out;
}

// Documents ingested without a time column have no trend: say so rather than draw an empty chart.
const NO_TIME_SHORT = "无时间 no time";
const NO_TIME = "这些文档没有时间，无法显示趋势。导入时加上时间列（time / 时间 / 日期，或 --time-col）。"
  + " <small>These documents have no time, so there is no trend: ingest them with a time column.</small>";

const REASONS = { volume: "声量上升 volume", negative_share: "负面占比上升 negative share" };

export async function topicsView(main, ctx) {
  const [{ topics }, emerging] = await Promise.all([api("/topics"), api("/topics/emerging").catch(() => ({ emerging: [] }))]);
  const rising = new Map(emerging.emerging.map((e) => [e.topic_id, e]));
  main.append(el(`<section class="topics"><h2>主题 <small>Topics</small> <span class="muted">${topics.length}</span></h2>
    ${rising.size ? `<p class="emerging-note">⚑ 新兴主题 emerging: ${[...rising.values()].map((e) =>
    `<a href="#/topics/${e.topic_id}">${esc(e.label)}</a>`).join("、")}</p>` : ""}
    <table class="grid" id="topic-table"><thead><tr><th>#</th><th>主题 Label</th><th>关键词 Keywords</th><th class="n">规模 Size</th>
    <th>负面占比 Negative</th><th>趋势 Trend (周 week)</th></tr></thead><tbody></tbody></table></section>`));
  const body = main.querySelector("tbody");
  if (!topics.length) body.append(el(`<tr><td colspan="6" class="muted">还没有主题：运行 voc topics build / no topics yet</td></tr>`));
  const rows = topics.map((t) => {
    const e = rising.get(t.id);
    const row = el(`<tr class="${e ? "emerging" : ""}" data-topic="${t.id}"><td>${t.id}</td>
      <td><a href="#/topics/${t.id}">${esc(t.label)}</a>${e ? ` <span class="badge hot" title="${esc(e.reasons.map((r) => REASONS[r]).join(", "))}">新兴 emerging</span>` : ""}</td>
      <td class="kw">${esc(t.keywords.slice(0, 6).join(" · "))}</td><td class="n">${num(t.size)}</td>
      <td>${bar(t.negative_share, "neg")} ${pct(t.negative_share)}</td><td class="trend"></td></tr>`);
    body.append(row);
    return row;
  });
  await pool(topics, 6, async (t) => {
    const d = await api(`/topics/${t.id}`);
    const i = topics.indexOf(t);
    rows[i].querySelector(".trend").innerHTML = d.trend.length ? sparkline(d.trend.map((p) => p.count), { label: `${t.label} trend` })
      : `<span class="muted small no-time">${NO_TIME_SHORT}</span>`;
  });
}

function chart(trend) {
  const w = 560, h = 140, pad = 24, n = trend.length;
  const max = Math.max(1, ...trend.map((p) => p.count));
  const bw = n ? (w - pad * 2) / n : 0;
  const bars = trend.map((p, i) => {
    const hh = (p.count / max) * (h - pad * 2), nh = (p.negative / max) * (h - pad * 2);
    const x = pad + i * bw;
    return `<g><title>${p.period}: ${p.count} (负面 negative ${p.negative})</title>
      <rect class="all" x="${x.toFixed(1)}" y="${(h - pad - hh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${hh.toFixed(1)}"/>
      <rect class="neg" x="${x.toFixed(1)}" y="${(h - pad - nh).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${nh.toFixed(1)}"/></g>`;
  }).join("");
  const first = trend[0]?.period || "", lastP = trend[n - 1]?.period || "";
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="trend">${bars}
    <text x="${pad}" y="${h - 6}">${first}</text><text x="${w - pad}" y="${h - 6}" text-anchor="end">${lastP}</text>
    <text x="${pad}" y="14">max ${max}</text></svg>`;
}

export async function topicView(main, ctx, id) {
  const [t, emerging] = await Promise.all([api(`/topics/${id}`), api("/topics/emerging").catch(() => ({ emerging: [] }))]);
  const e = emerging.emerging.find((x) => x.topic_id === id);
  main.append(el(`<section class="topic" data-topic="${t.id}"><p><a href="#/topics">← 全部主题 All topics</a></p>
    <h2>#${t.id} ${esc(t.label)} ${t.status === "retired" ? '<span class="badge">已退役 retired</span>' : ""}
      ${e ? '<span class="badge hot">新兴 emerging</span>' : ""}</h2>
    <p class="kw">${t.keywords.map((k) => `<span class="tag">${esc(k)}</span>`).join("")}</p>
    <p>规模 size <b>${num(t.size)}</b> · 负面占比 negative share <b>${pct(t.negative_share)}</b>
      ${t.trend.length ? `· 趋势 trend ${sparkline(t.trend.map((p) => p.count), { label: "sparkline" })}` : ""}
      · <a href="#/search?topic=${t.id}">搜索本主题文档 search its documents →</a></p>
    ${e ? `<p class="emerging-note">⚑ ${esc(e.reasons.map((r) => REASONS[r]).join("、"))}: 本期 ${e.count} 条 vs 基线 baseline ${e.baseline_mean.toFixed(1)}
      (p=${e.p_value.toExponential(1)}${e.z != null ? `, z=${e.z.toFixed(2)}` : ""})</p>` : ""}
    <h3>每周趋势 <small>Weekly trend</small> <span class="legend"><i class="all"></i>全部 all <i class="neg"></i>负面 negative</span></h3>
    ${t.trend.length ? chart(t.trend) : `<p class="muted no-time" id="no-time">${NO_TIME}</p>`}
    <h3>代表性原话 <small>Quotes</small></h3><ol class="quotes">${t.quotes.map((q) => `<li>${esc(q)}</li>`).join("")}</ol></section>`));
}
