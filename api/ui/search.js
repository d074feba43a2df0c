// Complaint search: query, filters as facet checkboxes with counts, hits, the whole document, tagging.
import { allHits, api, download } from "./api.js";
import { day, el, esc, highlight, num, SENTIMENT_LABELS, SOURCE_LABELS } from "./util.js";
import { tagBar } from "./tagging.js";
import { aspectView } from "./aspects.js";

// Facet name → the filter parameter it sets.
const FACETS = [["source", "source", "来源 Source"], ["industry", "industry", "行业 Industry"],
  ["sentiment", "sentiment", "情感 Sentiment"], ["topic", "topic", "主题 Topic"], ["tags", "tag", "标签 Tag"],
  ["channel", "channel", "渠道 Channel"], ["nps", "nps", "NPS 推荐度"]];
const MULTI = ["source", "industry", "sentiment", "topic", "tag", "channel", "nps"];
const NPS_LABELS = { detractor: "贬损者 detractor (0-6)", passive: "中立者 passive (7-8)", promoter: "推荐者 promoter (9-10)" };
let topicLabels = null;

const hitLabel = (facet, value) => (facet === "nps" ? NPS_LABELS[value] : facet === "source" ? SOURCE_LABELS[value] : facet === "sentiment"
  ? SENTIMENT_LABELS[value] : facet === "topic" ? (value === "-1" ? "未归类 outliers" : `#${value} ${topicLabels?.[value] || ""}`)
    : value) || value;

export async function searchView(main, ctx, params) {
  if (!topicLabels) {
    const data = await api("/topics").catch(() => ({ topics: [] }));
    topicLabels = Object.fromEntries(data.topics.map((t) => [String(t.id), t.label]));
  }
  const state = { q: params.get("q") || "", sort: params.get("sort") || "relevance", since: params.get("since") || "",
    until: params.get("until") || "", hits: [], cursor: null, total: 0, focus: -1, selected: new Set() };
  for (const name of MULTI) state[name] = params.getAll(name);

  main.append(el(`<section class="search">
    <form id="search-form" class="searchbar" role="search">
      <input id="q" type="search" placeholder="搜索投诉、评论、通话… (按 / 聚焦 · Enter 搜索)" aria-label="query" value="${esc(state.q)}">
      <select id="sort" aria-label="sort">
        <option value="relevance">相关度 relevance</option><option value="newest">最新 newest</option>
        <option value="oldest">最早 oldest</option><option value="most_negative">最负面 most negative</option>
        <option value="most_positive">最正面 most positive</option></select>
      <button type="submit" class="primary">搜索 <small>Search</small></button>
    </form>
    <div class="cols">
      <aside id="facets" aria-label="filters"></aside>
      <section class="results">
        <div class="summary"><span id="total-line"></span> <span class="hint">j/k 上下 · Enter 打开 · x 选择</span>
          <span class="export" title="导出当前查询（或所选结果）/ export the current query (or the selection)">导出 <small>Export</small>
            <button type="button" id="export-csv">CSV</button><button type="button" id="export-xlsx">Excel</button></span></div>
        <div id="tagbar"></div>
        <ol id="hits" class="hits"></ol>
        <button id="more" type="button" hidden>更多 <small>More</small></button>
      </section>
      <aside id="detail" class="detail" aria-label="document"><p class="muted">点击一条结果查看全文 / click a hit to read it in full.</p></aside>
    </div></section>`));
  const $ = (s) => main.querySelector(s);
  $("#sort").value = state.sort;

  const filters = () => {
    const f = { q: state.q, since: state.since, until: state.until };
    for (const name of MULTI) f[name] = state[name];
    return f;
  };
  const hasScope = () => Boolean(state.q.trim() || state.since || state.until || MULTI.some((n) => state[n].length));

  async function run(append = false) {
    ctx.clearMessages();
    const page = await api("/search", { params: { ...filters(), sort: state.sort, limit: 20,
      cursor: append ? state.cursor : null, facets: append ? "none" : FACETS.map((f) => f[0]) } });
    if (!append) {
      state.hits = [];
      state.focus = -1;
      state.selected.clear();
      $("#hits").replaceChildren();
      renderFacets(page.facets, page.dated !== false);
      const u = new URLSearchParams();
      for (const [k, v] of Object.entries(filters())) for (const x of [].concat(v)) if (x) u.append(k, x);
      history.replaceState(null, "", `#/search${u.toString() ? "?" + u : ""}`);
    }
    state.total = page.total;
    state.cursor = page.next_cursor;
    for (const hit of page.hits) {
      state.hits.push(hit);
      $("#hits").append(renderHit(hit));
    }
    $("#total-line").innerHTML = `共 <b id="total">${num(page.total)}</b> 条 <small>hits</small> · 已显示 ${state.hits.length}`;
    $("#more").hidden = !state.cursor;
    bar.update();
  }

  function renderFacets(facets, dated) {
    const box = $("#facets");
    box.replaceChildren();
    // No stored document has a time: a date filter could only empty the list, so it is not offered.
    if (dated || state.since || state.until) {
      box.append(el(`<div class="facet dates"><h3>时间 <small>Time</small></h3>
        <label>从 from <input type="date" id="since" value="${esc(state.since)}"></label>
        <label>到 to <input type="date" id="until" value="${esc(state.until)}"></label></div>`));
      for (const id of ["since", "until"]) box.querySelector(`#${id}`).addEventListener("change", (e) => {
        state[id] = e.target.value;
        run().catch(ctx.showError);
      });
    } else {
      box.append(el(`<p class="facet dates muted small" id="no-dates">文档没有时间，无法按日期筛选。导入时加上时间列（time / 时间 / 日期）。
        <small>No document has a time: add a time column when ingesting.</small></p>`));
    }
    for (const [facet, param, title] of FACETS) {
      const counts = { ...(facets[facet] || {}) };
      for (const v of state[param]) if (!(v in counts)) counts[v] = 0;
      if (!Object.keys(counts).length) continue;
      const group = el(`<fieldset class="facet" data-facet="${facet}"><legend>${title}</legend></fieldset>`);
      for (const [value, count] of Object.entries(counts)) {
        const checked = state[param].includes(value) ? "checked" : "";
        const item = el(`<label class="facet-value"><input type="checkbox" value="${esc(value)}" ${checked}>
          <span class="name">${esc(hitLabel(facet, value))}</span><span class="count">${num(count)}</span></label>`);
        item.querySelector("input").addEventListener("change", (e) => {
          state[param] = e.target.checked ? [...state[param], value] : state[param].filter((v) => v !== value);
          run().catch(ctx.showError);
        });
        group.append(item);
      }
      box.append(group);
    }
  }

  function renderHit(hit) {
    const li = el(`<li class="hit" tabindex="-1" data-id="${esc(hit.id)}">
      <input type="checkbox" class="select" aria-label="select" ${ctx.can("tag") ? "" : "hidden"}>
      <div class="body"><p class="text">${hit.highlight ? highlight(hit.highlight) : esc(hit.text)}</p>
      <p class="meta"><span class="src">${esc(SOURCE_LABELS[hit.source] || hit.source)}</span>
        ${hit.industry ? `<span>${esc(hit.industry)}</span>` : ""}${hit.channel ? `<span>${esc(hit.channel)}</span>` : ""}
        <span>${day(hit.created_at)}</span>
        ${hit.sentiment ? `<span class="sent ${hit.sentiment}">${esc(SENTIMENT_LABELS[hit.sentiment])}</span>` : ""}
        ${hit.topic_id != null && hit.topic_id >= 0 ? `<a href="#/topics/${hit.topic_id}">#${hit.topic_id} ${esc(hit.topic_label || "")}</a>` : ""}
        ${hit.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join("")}
        ${(hit.aspects || []).map((a) => `<span class="aspect-chip aspect-${esc(a.polarity)}" title="${esc(a.opinion)}">` +
          `${esc(a.aspect || "未归类")}${a.term ? `·${esc(a.term)}` : ""}</span>`).join("")}</p></div></li>`);
    li.querySelector(".select").addEventListener("change", (e) => {
      if (e.target.checked) state.selected.add(hit.id); else state.selected.delete(hit.id);
      bar.update();
    });
    li.querySelector(".body").addEventListener("click", (e) => {
      if (e.target.closest("a")) return;
      focusHit(state.hits.findIndex((h) => h.id === hit.id));
      openDoc(hit.id).catch(ctx.showError);
    });
    return li;
  }

  function focusHit(i) {
    const items = main.querySelectorAll("#hits .hit");
    if (!items.length) return;
    state.focus = Math.max(0, Math.min(items.length - 1, i));
    items.forEach((li, j) => li.classList.toggle("focused", j === state.focus));
    items[state.focus].focus({ preventScroll: true });
    items[state.focus].scrollIntoView({ block: "nearest" });
  }

  async function openDoc(id) {
    const doc = await api(`/documents/${encodeURIComponent(id)}`);
    const meta = { ...doc.meta };
    delete meta.extra;
    const rows = [["来源 source", SOURCE_LABELS[doc.source]], ["时间 time", doc.created_at], ["行业 industry", doc.industry],
      ["渠道 channel", doc.channel], ["门店 store", doc.store], ["商品 product", doc.product],
      ["情感 sentiment", doc.sentiment_label && `${SENTIMENT_LABELS[doc.sentiment_label]} (${doc.sentiment_score})`],
      ["主题 topic", doc.topic_id != null && doc.topic_id >= 0 ? `#${doc.topic_id} ${doc.topic_label || ""}` : null],
      ...Object.entries(meta).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v])];
    const body = doc.turns.length ? `<ol class="call" aria-label="call">${doc.turns.map((t) => {
      const customer = /customer|客户|用户/.test(t.role);
      return `<li class="turn ${customer ? "customer" : "agent"}"><span class="who">${customer ? "客户 customer" : `坐席 ${esc(t.role)}`}</span>${esc(t.text)}</li>`;
    }).join("")}</ol>` : `<p class="fulltext">${esc(doc.text_original)}</p>`;
    // Aspect offsets index the analysed text (normalised; for a call, the customer's turns).
    const aspects = doc.analysis?.sentiment?.aspects || [];
    const marked = aspectView(doc.text, aspects, { heading: doc.turns.length ? "客户文本 · 方面 Customer text · aspects" : "" });
    const detail = $("#detail");
    detail.replaceChildren(el(`<article data-id="${esc(doc.id)}"><h3>${doc.turns.length ? "通话全文 Whole call" : "全文 Full text"}</h3>
      ${body}<dl>${rows.filter((r) => r[1] != null && r[1] !== "").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("")}</dl>
      <p class="doc-tags">${doc.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join("") || '<span class="muted">无标签 no tags</span>'}</p>
      <p class="muted small">${esc(doc.id)}${doc.near_duplicate_of ? ` · 近似重复 near-duplicate of ${esc(doc.near_duplicate_of)}` : ""}</p></article>`));
    if (marked && doc.turns.length) detail.querySelector(".call").after(marked);
    else if (marked) {
      const original = detail.querySelector(".fulltext");
      if (doc.text_original !== doc.text) {
        const details = el('<details class="original"><summary>原文 <small>Original</small></summary></details>');
        details.append(original.cloneNode(true));
        original.after(details);
      }
      original.replaceWith(marked);
    }
    if (ctx.can("tag")) detail.querySelector("article").append(bar.docTagger(doc));
  }

  const bar = tagBar(ctx, {
    container: $("#tagbar"),
    selected: () => state.hits.filter((h) => state.selected.has(h.id)),
    total: () => state.total,
    hasScope,
    everything: () => allHits(filters()),
    queryFilters: filters,
    refresh: async (docId) => { await run(); if (docId) await openDoc(docId); },
  });

  $("#search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.q = $("#q").value;
    state.sort = $("#sort").value;
    $("#q").blur(); // so j/k move through the new hits at once
    run().catch(ctx.showError);
  });
  $("#sort").addEventListener("change", () => { state.sort = $("#sort").value; run().catch(ctx.showError); });
  $("#more").addEventListener("click", () => run(true).catch(ctx.showError));
  // The selection when there is one, else every hit of the current query and filters (streamed by the server).
  const exportAs = (format) => download("/export", { ...filters(), sort: state.sort, format,
    id: [...state.selected] }, `voc-export.${format}`).catch(ctx.showError);
  $("#export-csv").addEventListener("click", () => exportAs("csv"));
  $("#export-xlsx").addEventListener("click", () => exportAs("xlsx"));
  const onKey = (e) => {
    const key = e.detail.key;
    if (!main.isConnected) { document.removeEventListener("voc-key", onKey); return; }
    if (key === "j") focusHit(state.focus + 1);
    else if (key === "k") focusHit(state.focus - 1);
    else if ((key === "Enter" || key === "o") && state.focus >= 0) openDoc(state.hits[state.focus].id).catch(ctx.showError);
    else if (key === "x" && state.focus >= 0) main.querySelectorAll("#hits .select")[state.focus]?.click();
    else if (key === "m" && !$("#more").hidden) $("#more").click();
  };
  document.addEventListener("voc-key", onKey);
  await run();
}
