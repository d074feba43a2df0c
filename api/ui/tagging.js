// Tagging: one document, a selection, or every hit of the query (with a count and a confirm), and an
// undo of the last action that removes the tag from exactly the ids that action added.
//
// POST /v1/tags/apply answers only {tag, changed}, so the ids are worked out here: the hits carry their
// tags, only those without the tag are sent, and those are the ids an undo removes.
import { api } from "./api.js";
import { el, esc, num } from "./util.js";

const CHUNK = 10000; // the API's most ids per call

async function change(tag, ids, remove) {
  let changed = 0;
  for (let i = 0; i < ids.length; i += CHUNK) {
    const r = await api(remove ? "/tags/remove" : "/tags/apply", { method: "POST", body: { tag, ids: ids.slice(i, i + CHUNK) } });
    changed += r.changed;
  }
  return changed;
}

export function tagBar(ctx, opts) {
  let last = null; // {tag, ids, what}
  const box = opts.container;
  if (ctx.can("tag")) {
    box.append(el(`<div class="tagbar"><label>标签 <small>Tag</small>
      <input id="tag-name" list="known-tags" placeholder="例如 快递柜投诉" maxlength="64"></label><datalist id="known-tags"></datalist>
      <button type="button" id="tag-selected" disabled>标记选中 <small>Tag selected</small> (<span>0</span>)</button>
      <button type="button" id="tag-all">标记全部 <small>Tag all</small> <span>0</span> 条</button>
      <button type="button" id="undo" disabled>撤销上次 <small>Undo</small></button>
      <span id="tag-status" class="muted"></span></div>`));
    api("/tags").then((d) => box.querySelector("#known-tags").replaceChildren(
      ...d.tags.map((t) => el(`<option value="${esc(t.tag)}">${num(t.count)}</option>`)))).catch(() => {});
  }
  const $ = (s) => box.querySelector(s);
  const tagName = () => {
    const tag = ($("#tag-name")?.value || "").trim();
    if (!tag) throw new Error("请先输入标签名 / enter a tag name first");
    return tag;
  };

  async function apply(tag, hits, what, docId) {
    const ids = hits.filter((h) => !h.tags.includes(tag)).map((h) => h.id);
    const already = hits.length - ids.length;
    const changed = ids.length ? await change(tag, ids, false) : 0;
    last = { tag, ids, what };
    const text = `已为 ${num(changed)} 条添加标签「${tag}」/ tagged ${changed} documents` +
      (already ? `（${num(already)} 条原已有 already had it）` : "");
    await opts.refresh(docId);
    ctx.notice(text);
    $("#tag-status") && ($("#tag-status").textContent = `上次 last: ${what} → ${changed}`);
    update();
  }

  async function undo() {
    if (!last) return;
    const { tag, ids, what } = last;
    const removed = ids.length ? await change(tag, ids, true) : 0;
    last = null;
    await opts.refresh();
    ctx.notice(`已撤销 undone: ${what} — 从 ${num(removed)} 条移除标签「${tag}」/ removed from ${removed} documents`);
    update();
  }

  const run = (fn) => () => fn().catch(ctx.showError);
  if (ctx.can("tag")) {
    $("#tag-selected").addEventListener("click", run(async () => {
      const tag = tagName();
      const hits = opts.selected();
      await apply(tag, hits, `选中 ${hits.length} 条 selection`);
    }));
    $("#tag-all").addEventListener("click", run(async () => {
      const tag = tagName();
      if (!opts.hasScope()) throw new Error("请先输入查询或选择筛选条件 / search or filter first (tagging everything is not allowed)");
      const total = opts.total();
      if (!(await ctx.confirm(`为当前查询的全部 ${num(total)} 条结果添加标签「${tag}」？\nTag all ${total} hits of this query with “${tag}”?`))) return;
      const hits = await opts.everything();
      if (hits === null) { // too many for ids: by query, without an exact undo
        const r = await api("/tags/apply", { method: "POST", body: { tag, query: opts.queryFilters() } });
        last = null;
        await opts.refresh();
        ctx.notice(`已为 ${num(r.changed)} 条添加标签「${tag}」/ tagged ${r.changed} (too many hits for undo)`);
        return update();
      }
      await apply(tag, hits, `查询全部 ${hits.length} 条 all hits`);
    }));
    $("#undo").addEventListener("click", run(undo));
  }

  function update() {
    if (!ctx.can("tag")) return;
    const n = opts.selected().length;
    $("#tag-selected span").textContent = num(n);
    $("#tag-selected").disabled = n === 0;
    $("#tag-all span").textContent = num(opts.total());
    $("#undo").disabled = !last;
    $("#undo").title = last ? `移除 remove「${last.tag}」from ${last.ids.length}` : "";
  }

  // The tag form in the document panel.
  function docTagger(doc) {
    const form = el(`<form class="doc-tagger"><input placeholder="标签 tag" aria-label="tag this document" maxlength="64" list="known-tags">
      <button type="submit">标记本条 <small>Tag</small></button></form>`);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const tag = form.querySelector("input").value.trim();
      if (tag) apply(tag, [{ id: doc.id, tags: doc.tags }], "单条 one document", doc.id).catch(ctx.showError);
    });
    return form;
  }

  return { update, docTagger };
}
