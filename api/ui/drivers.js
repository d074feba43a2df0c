// Drivers (驱动因素): how many points each topic or indicator costs or adds to NPS, score, rating or
// sentiment, as a horizontal bar chart with 95% whiskers, then key-driver importance and the caveats.
// Plain SVG; every label from the server goes through esc() (topic labels are built from customer words).
import { api } from "./api.js";
import { el, esc, num } from "./util.js";

const METRICS = { nps: "NPS 净推荐值", score: "问卷均分 survey score", rating: "星级均分 star rating",
  sentiment: "净情感 net sentiment" };
const GROUPINGS = { topic: "主题 topic", indicator: "指标 indicator" };
const FIELDS = ["metric", "by", "source", "store", "since", "until"];
const SHOWN = 20;
const fmt = (x, digits = 1) => (x == null ? "–" : (x > 0 ? "+" : "") + Number(x).toFixed(digits));

// One row per theme with an impact: a bar from zero to the impact, a whisker over the interval.
export function impactChart(drivers, unit) {
  const rows = drivers.filter((d) => d.impact != null).slice(0, SHOWN);
  if (!rows.length) return "";
  const labelW = 200, plotW = 460, rowH = 22, pad = 26;
  const w = labelW + plotW + 60, h = pad * 2 + rows.length * rowH;
  const scale = Math.max(1e-9, ...rows.flatMap((d) => [Math.abs(d.low), Math.abs(d.high), Math.abs(d.impact)]));
  const zero = labelW + plotW / 2;
  const x = (v) => zero + (v / scale) * (plotW / 2);
  const body = rows.map((d, i) => {
    const y = pad + i * rowH, mid = y + rowH / 2;
    const [a, b] = [x(Math.min(0, d.impact)), x(Math.max(0, d.impact))];
    const label = d.label.length > 16 ? d.label.slice(0, 15) + "…" : d.label;
    return `<g class="driver ${d.impact < 0 ? "cost" : "gain"}" data-key="${esc(d.key)}">
      <title>${esc(d.label)}: ${fmt(d.impact)} ${esc(unit)} (95% ${fmt(d.low)} … ${fmt(d.high)}), ${d.volume} 条 mentions</title>
      <text class="label" x="${labelW - 6}" y="${mid + 4}" text-anchor="end">${esc(label)}</text>
      <rect x="${a.toFixed(1)}" y="${(y + 4).toFixed(1)}" width="${Math.max(1, b - a).toFixed(1)}" height="${rowH - 8}"/>
      <line class="whisker" x1="${x(d.low).toFixed(1)}" x2="${x(d.high).toFixed(1)}" y1="${mid}" y2="${mid}"/>
      <line class="whisker" x1="${x(d.low).toFixed(1)}" x2="${x(d.low).toFixed(1)}" y1="${mid - 4}" y2="${mid + 4}"/>
      <line class="whisker" x1="${x(d.high).toFixed(1)}" x2="${x(d.high).toFixed(1)}" y1="${mid - 4}" y2="${mid + 4}"/>
      <text class="value" x="${labelW + plotW + 56}" y="${mid + 4}" text-anchor="end">${fmt(d.impact)}</text></g>`;
  }).join("");
  return `<svg class="chart drivers-chart" id="drivers-chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img"
    aria-label="impact with 95% intervals">
    <line class="axis" x1="${zero}" x2="${zero}" y1="${pad - 6}" y2="${h - pad + 6}"/>
    <text x="${labelW}" y="14">← 拉低 costs</text><text x="${labelW + plotW}" y="14" text-anchor="end">拉高 adds →</text>
    <text x="${zero}" y="${h - 6}" text-anchor="middle">0</text>
    <text x="${labelW}" y="${h - 6}">${fmt(-scale)}</text><text x="${labelW + plotW}" y="${h - 6}" text-anchor="end">${fmt(scale)}</text>
    ${body}</svg>`;
}

function form(values) {
  const options = (choices, chosen) => Object.entries(choices)
    .map(([v, label]) => `<option value="${v}"${v === chosen ? " selected" : ""}>${label}</option>`).join("");
  return `<form class="drivers-filters" id="drivers-form">
    <label>指标 Metric <select name="metric">${options(METRICS, values.metric || "nps")}</select></label>
    <label>按 By <select name="by">${options(GROUPINGS, values.by || "topic")}</select></label>
    <label>来源 Source <select name="source">${options({ "": "全部 all", survey: "问卷 survey", review: "评论 review",
      hotline: "热线 hotline" }, values.source || "")}</select></label>
    <label>门店 Store <input name="store" value="${esc(values.store || "")}" size="12"></label>
    <label>从 Since <input name="since" type="date" value="${esc(values.since || "")}"></label>
    <label>到 Until <input name="until" type="date" value="${esc(values.until || "")}"></label>
    <button type="submit" class="primary">计算 <small>Compute</small></button></form>`;
}

function keyDrivers(model) {
  if (!model) return "";
  if (model.status !== "ok") return `<p class="muted" id="key-drivers-note">关键驱动 key drivers: ${esc(model.message)}</p>`;
  const effect = (t, name) => (t[name] == null ? "–" : `${fmt(t[name])} <span class="muted small">(${fmt(t[name + "_low"], 0)}…${fmt(t[name + "_high"], 0)})</span>`);
  return `<h3>关键驱动 <small>Key drivers</small> <span class="muted small">R² ${model.r2.toFixed(2)}
      (95% ${model.r2_low.toFixed(2)}–${model.r2_high.toFixed(2)})</span></h3>
    <table class="grid" id="key-drivers"><thead><tr><th>主题 Theme</th><th class="n">R² 占比 share</th>
      <th class="n">重要性 95%</th><th class="n">提及 mentioned</th><th class="n">负面提及 said negatively</th></tr></thead><tbody>
    ${model.themes.map((t) => `<tr><td>${esc(t.label)}</td><td class="n">${(t.share_of_r2 * 100).toFixed(0)}%</td>
      <td class="n">${t.low.toFixed(3)}–${t.high.toFixed(3)}</td><td class="n">${effect(t, "effect")}</td>
      <td class="n">${effect(t, "negative_effect")}</td></tr>`).join("")}</tbody></table>
    <p class="muted small">${esc(model.method)}</p>`;
}

export async function driversView(main, ctx, params) {
  const values = Object.fromEntries(FIELDS.map((k) => [k, params.get(k) || ""]));
  const section = el(`<section class="drivers"><h2>驱动因素 <small>What drives the score</small></h2>${form(values)}
    <div id="drivers-result"><p class="muted">计算中… computing</p></div></section>`);
  main.append(section);
  section.querySelector("form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const k of FIELDS) if (e.target[k].value) q.set(k, e.target[k].value);
    location.hash = `#/drivers?${q}`;
  });
  const query = { metric: values.metric || "nps", by: values.by || "topic", source: values.source || undefined,
    store: values.store || undefined, since: values.since || undefined, until: values.until || undefined };
  const result = section.querySelector("#drivers-result");
  const r = await api("/drivers", { params: query });
  const notes = r.notes.length ? `<ul class="notes" id="drivers-notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : "";
  if (r.status !== "ok" || !r.overall) {
    result.replaceChildren(el(`<div><p class="notice" id="drivers-message">${esc(r.message)}</p>${notes}</div>`));
    return;
  }
  const o = r.overall;
  const pending = r.drivers.filter((d) => d.impact == null);
  result.replaceChildren(el(`<div>
    <p id="drivers-overall"><b>${esc(o.title)} ${Number(o.value).toFixed(1)}</b> (95% ${Number(o.low).toFixed(1)} … ${Number(o.high).toFixed(1)})
      · ${num(o.n)} 条有分数 documents with the metric · ${esc(GROUPINGS[r.by])}</p>
    <h3>影响 <small>Impact (${esc(o.unit)})</small></h3>
    ${impactChart(r.drivers, o.unit) || `<p class="muted">没有可计算的主题 / no theme with enough mentions</p>`}
    <p class="muted small">影响 = 总体指标 − 去掉提及该主题的反馈后的指标。负值：该主题拉低分数。这是相关，不是因果。
      Impact: how much the metric would change without the feedback that mentions the theme; an association, not proof of cause.</p>
    ${pending.length ? `<p class="muted small" id="drivers-pending">数据不足 not enough data: ${pending.map((d) =>
      `${esc(d.label)} (${d.volume})`).join("、")}</p>` : ""}
    ${keyDrivers(r.key_drivers)}${notes}</div>`));
}
