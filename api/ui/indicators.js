// Indicators: the tree with coverage per indicator, the suggestion queue (accept / merge / reject with a
// reason) and the version history with diffs.
import { api, download } from "./api.js";
import { rulePreview } from "./rules.js";
import { bar, day, el, esc, num, pct, sparkline } from "./util.js";

const STATUS = { pending: "待审 pending", accepted: "已采纳 accepted", merged: "已合并 merged", rejected: "已拒绝 rejected" };

export async function indicatorsView(main, ctx, params) {
  main.append(el(`<section class="indicators"><div class="cols2">
    <div><h2>指标体系 <small>Indicator tree</small> <span id="tree-version" class="badge"></span>
      <span id="export" class="export" hidden>导出 export: <button type="button" class="link" value="xlsx">XLSX</button>
        <button type="button" class="link" value="yaml">YAML</button> <button type="button" class="link" value="json">JSON</button></span></h2>
      <div id="tree"></div>
      <div id="rule-preview"></div>
      <h2>版本历史 <small>Versions</small></h2><ol id="versions" class="versions" reversed></ol><div id="diff"></div></div>
    <div><h2>建议新指标 <small>Suggested indicators</small>
      <select id="sugg-status" aria-label="status"><option value="pending">待审 pending</option><option value="">全部 all</option></select></h2>
      <div id="suggestions"></div></div></div></section>`));
  const $ = (s) => main.querySelector(s);
  $("#sugg-status").value = params.get("status") ?? "pending";
  let leaves = [];
  const preview = rulePreview(ctx);
  $("#rule-preview").append(preview.element);

  async function loadTree() {
    let tree;
    try {
      tree = await api("/indicators");
    } catch (exc) {
      if (exc.status === 404) {
        $("#tree").replaceChildren(el(`<p class="muted">还没有指标体系 / no indicator system yet: voc indicators import --template NAME</p>`));
        return false;
      }
      throw exc;
    }
    const cov = await api("/indicators/coverage");
    const rows = new Map(cov.indicators.map((r) => [r.id, r]));
    $("#tree-version").textContent = `v${tree.version}`;
    $("#export").hidden = false;
    for (const button of $("#export").querySelectorAll("button")) {
      button.onclick = () => download("/indicators/export", { format: button.value, version: tree.version },
        `indicators-v${tree.version}.${button.value}`).catch(ctx.showError);
    }
    leaves = [];
    const render = (nodes) => `<ul>${nodes.map((n) => {
      const r = rows.get(n.id);
      if (n.kind === "indicator") leaves.push(n);
      return `<li class="node ${n.kind} ${r?.no_evidence ? "no-evidence" : ""}" data-id="${esc(n.id)}">
        <div class="row" title="${esc(n.definition)}"><span class="name">${esc(n.name)}</span>
        <span class="n">${num(r?.mentions)}</span><span>${bar(r?.share)} ${pct(r?.share)}</span>
        <span class="net ${r?.net_sentiment < 0 ? "neg" : "pos"}">净 net ${r?.net_sentiment == null ? "–" : r.net_sentiment.toFixed(2)}</span>
        ${sparkline((r?.trend || []).map((p) => p.mentions), { width: 80, height: 18, label: `${n.name} trend` })}
        ${r?.no_evidence ? '<span class="badge warn">无提及 no evidence</span>' : ""}
        ${n.rule ? `<button type="button" class="link rule" title="规则 rule: 点击预览 click to preview">${esc(n.rule)}</button>` : ""}</div>
        ${n.children?.length ? render(n.children) : ""}</li>`;
    }).join("")}</ul>`;
    const treeBox = el(`<div class="tree"><p class="muted">${num(cov.mapped_documents)} / ${num(cov.documents)} 条文档映射到指标
      (mapped) · 列 columns: 提及 mentions · 占比 share · 净情感 net sentiment · 趋势 trend</p>${render(tree.indicators)}</div>`);
    for (const button of treeBox.querySelectorAll("button.rule")) {
      button.addEventListener("click", () => preview.setRule(button.textContent));
    }
    $("#tree").replaceChildren(treeBox);
    return true;
  }

  async function loadVersions() {
    const { versions } = await api("/indicators/versions");
    $("#versions").replaceChildren(...versions.slice().reverse().map((v) => {
      const li = el(`<li><button type="button" class="link">v${v.version}</button> ${day(v.created_at)} · ${esc(v.author)}
        ${v.note ? `· <span class="muted">${esc(v.note)}</span>` : ""}</li>`);
      li.querySelector("button").addEventListener("click", () => showDiff(v.version).catch(ctx.showError));
      return li;
    }));
  }

  async function showDiff(version) {
    if (version <= 1) { $("#diff").replaceChildren(el(`<p class="muted">v1 是第一个版本 / first version</p>`)); return; }
    const d = await api("/indicators/diff", { params: { old: version - 1, new: version } });
    const list = (items, f) => items.map((x) => `<li>${f(x)}</li>`).join("");
    $("#diff").replaceChildren(el(`<div class="diff"><h3>v${d.from_version} → v${d.to_version}</h3><ul>
      ${list(d.added, (x) => `<span class="add">+ ${esc(x.path.join(" › "))}</span>`)}
      ${list(d.removed, (x) => `<span class="del">− ${esc(x.path.join(" › "))}</span>`)}
      ${list(d.changed, (x) => `~ ${esc(x.name)}: ${esc(Object.keys(x.changes).join(", "))}`)}</ul></div>`));
  }

  async function loadSuggestions() {
    const status = $("#sugg-status").value;
    const { suggestions } = await api("/suggestions", { params: { status } });
    const box = $("#suggestions");
    box.replaceChildren();
    if (!suggestions.length) box.append(el(`<p class="muted">没有建议 / none (voc indicators suggest)</p>`));
    for (const s of suggestions) box.append(card(s));
  }

  function card(s) {
    const ev = s.evidence;
    const c = el(`<article class="suggestion ${s.status}" data-id="${esc(s.id)}">
      <h3>${esc(s.name)} <span class="badge status">${STATUS[s.status]}</span> <span class="muted small">优先级 priority ${s.priority}</span></h3>
      <p>${esc(s.definition)}</p>
      <p class="kw">${s.keywords.map((k) => `<span class="tag">${esc(k)}</span>`).join("")}</p>
      <p class="evidence">证据 evidence: <b>${num(ev.count)}</b> 条 · 占比 share ${pct(ev.share)} · 负面率 negative ${pct(ev.negative_rate)}
        · 增长 growth ${ev.growth == null ? "–" : pct(ev.growth)} · ${Object.entries(ev.sources).map(([k, v]) => `${esc(k)} ${v}`).join(" / ")}
        · 建议放在 under <code>${esc(s.parent || "–")}</code></p>
      ${s.survey_question ? `<p class="question">问卷题 survey question: ${esc(s.survey_question)}</p>` : ""}
      <ul class="quotes">${ev.quotes.map((q) => `<li class="${esc(q.polarity || "")}">${esc(q.text)}</li>`).join("")}</ul>
      <p class="outcome">${s.status === "pending" ? "" : `${STATUS[s.status]} · ${esc(s.reviewer || "")}${s.reason ? ` · 理由 reason: ${esc(s.reason)}` : ""}${s.target ? ` · → ${esc(s.target)}` : ""}${s.tree_version ? ` · 树版本 tree v${s.tree_version}` : ""}`}</p>
    </article>`);
    if (s.status === "pending" && ctx.can("review")) c.append(reviewForm(s, c));
    return c;
  }

  function reviewForm(s, c) {
    const form = el(`<form class="review"><textarea name="reason" rows="2" maxlength="2000" placeholder="理由 reason（拒绝时必填 required to reject）"></textarea>
      <div class="actions"><button type="submit" value="accept" class="primary">采纳 <small>Accept</small></button>
      <select name="target" aria-label="merge into"><option value="">合并到… merge into</option>${leaves.map((n) =>
      `<option value="${esc(n.id)}">${esc(n.name)} (${esc(n.id)})</option>`).join("")}</select>
      <button type="submit" value="merge">合并 <small>Merge</small></button>
      <button type="submit" value="reject" class="danger">拒绝 <small>Reject</small></button></div></form>`);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const action = e.submitter?.value || "accept";
      const reason = form.reason.value.trim() || null;
      const target = form.target.value || null;
      try {
        if (action === "reject" && !reason) throw new Error("拒绝需要理由 / a rejection needs a reason");
        if (action === "merge" && !target) throw new Error("请选择要合并到的指标 / choose the indicator to merge into");
        const r = await api(`/suggestions/${encodeURIComponent(s.id)}/review`, { method: "POST", body: { action, reason, target } });
        ctx.notice(`「${r.name}」${STATUS[r.status]} · 指标体系新版本 new tree version v${r.version}`);
        c.replaceWith(card(r));
        await loadTree();
        await loadVersions();
      } catch (exc) {
        ctx.showError(exc);
      }
    });
    return form;
  }

  $("#sugg-status").addEventListener("change", () => loadSuggestions().catch(ctx.showError));
  if (await loadTree()) await Promise.all([loadVersions(), loadSuggestions()]);
}
