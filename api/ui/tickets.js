// Tickets (工单) inbox: the list (filter by status, owner, overdue; due time, overdue rows highlighted) and one
// ticket (evidence, comments, audit trail, the status buttons its state allows, comment and reassign forms).
// Every value from the server goes through esc() or textContent: titles and comments are user text.
import { api } from "./api.js";
import { el, esc, pct } from "./util.js";

const STATUS = { open: "待处理 open", in_progress: "处理中 in progress", resolved: "已解决 resolved", closed: "已关闭 closed" };
// The flow: what each state may become (the server enforces it; the buttons only offer these).
const NEXT = {
  open: [["in_progress", "开始处理 Start"]],
  in_progress: [["resolved", "标记解决 Resolve"]],
  resolved: [["closed", "关闭 Close"], ["open", "重新打开 Reopen"]],
  closed: [["open", "重新打开 Reopen"]],
};
const ACTIONS = { opened: "创建 opened", status: "状态 status", comment: "评论 comment", assign: "转派 assign",
  escalated: "升级 escalated", notified: "通知 notified" };

const when = (ts) => (ts ? String(ts).replace("T", " ").slice(0, 16) : "–");

export async function ticketsView(main, ctx, params) {
  const filters = { status: params.get("status") || "", owner: params.get("owner") || "", overdue: params.get("overdue") === "1" };
  const [{ tickets }, report] = await Promise.all([
    api("/tickets", { params: { status: filters.status, owner: filters.owner, overdue: filters.overdue || undefined, limit: 500 } }),
    api("/tickets/report").catch(() => null),
  ]);
  const section = el(`<section class="tickets"><h2>工单 <small>Tickets</small> <span class="muted" id="ticket-count"></span></h2>
    <form class="ticket-filters" id="ticket-filters">
      <label>状态 Status <select name="status"><option value="">全部 all</option>
        ${Object.entries(STATUS).map(([v, label]) => `<option value="${v}">${label}</option>`).join("")}</select></label>
      <label>负责人 Owner <input name="owner" maxlength="256" placeholder="北京店 / 华北大区"></label>
      <label><input type="checkbox" name="overdue"> 仅超时 overdue only</label>
      <button type="submit">筛选 <small>Filter</small></button></form>
    <table class="grid" id="ticket-table"><thead><tr><th>#</th><th>标题 Title</th><th>状态 Status</th><th>负责人 Owner</th>
      <th>截止 Due</th><th class="n">级别 Level</th></tr></thead><tbody></tbody></table></section>`);
  const form = section.querySelector("form");
  form.status.value = filters.status;
  form.owner.value = filters.owner;
  form.overdue.checked = filters.overdue;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (form.status.value) q.set("status", form.status.value);
    if (form.owner.value.trim()) q.set("owner", form.owner.value.trim());
    if (form.overdue.checked) q.set("overdue", "1");
    location.hash = `#/tickets${q.toString() ? "?" + q : ""}`;
  });
  section.querySelector("#ticket-count").textContent = String(tickets.length);
  const body = section.querySelector("tbody");
  if (!tickets.length) body.append(el(`<tr><td colspan="6" class="muted">没有工单 / no tickets</td></tr>`));
  for (const t of tickets) {
    const moved = t.owner !== t.original_owner ? ` <span class="muted small">← ${esc(t.original_owner)}</span>` : "";
    body.append(el(`<tr class="${t.overdue ? "overdue" : ""}" data-ticket="${t.id}"><td>${t.id}</td>
      <td><a href="#/tickets/${t.id}">${esc(t.title)}</a></td><td>${STATUS[t.status] || esc(t.status)}</td>
      <td>${esc(t.owner)}${moved}</td>
      <td>${when(t.due_at)}${t.overdue ? ' <span class="badge warn">超时 overdue</span>' : ""}</td>
      <td class="n">${t.level}</td></tr>`));
  }
  if (report && report.owners.length) section.append(reportTable(report));
  main.append(section);
}

const hours = (x) => (x == null ? "–" : x.toFixed(1));

// Per owner the tickets were opened for: resolution time and the share resolved by the first due time.
function reportTable(report) {
  const rows = [...report.owners, { ...report.total, owner: "合计 all" }];
  return el(`<div class="ticket-report"><h3>处理时效 <small>Resolution and SLA by owner</small></h3>
    <table class="grid" id="ticket-report"><thead><tr><th>负责人 Owner</th><th class="n">工单 Tickets</th>
      <th class="n">已解决 Resolved</th><th class="n">中位 Median h</th><th class="n">P90 h</th>
      <th class="n">按时解决率 SLA met</th></tr></thead><tbody>${rows.map((r) => `<tr><td>${esc(r.owner)}</td>
      <td class="n">${r.tickets}</td><td class="n">${r.resolved}</td><td class="n">${hours(r.median_resolution_hours)}</td>
      <td class="n">${hours(r.p90_resolution_hours)}</td><td class="n">${pct(r.sla_compliance)}</td></tr>`).join("")}
    </tbody></table></div>`);
}

export async function ticketView(main, ctx, id) {
  const t = await api(`/tickets/${id}`);
  const canAct = ctx.can("act");
  const section = el(`<section class="ticket" data-ticket="${t.id}"><p><a href="#/tickets">← 全部工单 All tickets</a></p>
    <h2>#${t.id} ${esc(t.title)} <span class="badge" id="ticket-status">${STATUS[t.status] || esc(t.status)}</span>
      ${t.overdue ? '<span class="badge warn">超时 overdue</span>' : ""}</h2>
    <p>负责人 owner <b>${esc(t.owner)}</b>${t.owner !== t.original_owner ? ` (原 opened for ${esc(t.original_owner)})` : ""}
      · 升级级别 level ${t.level} · 截止 due <b>${when(t.due_at)}</b> · SLA ${t.sla_hours} h
      ${t.rule ? ` · 规则 rule ${esc(t.rule)}` : ""}${t.alert_id ? ` · 告警 alert ${esc(t.alert_id)}` : ""}</p>
    <div class="actions" id="status-actions"></div>
    <h3>证据 <small>Evidence</small></h3><ol class="quotes" id="evidence">${t.evidence.map((d) => d.missing
      ? `<li class="muted">${esc(d.id)}: 已不在库中 no longer stored</li>`
      : `<li><span class="muted small">${esc(d.id)}</span> ${esc(d.text)}
        <span class="muted small">${esc(d.store || "")} ${when(d.created_at)}</span></li>`).join("")
      || '<li class="muted">无 none</li>'}</ol>
    <h3>评论 <small>Comments</small></h3><ul class="comments" id="comments">${t.comments.map((c) =>
      `<li><span class="muted small">${when(c.at)} ${esc(c.author)}</span> ${esc(c.text)}</li>`).join("")
      || '<li class="muted">无 none</li>'}</ul>
    ${canAct ? `<form id="comment-form"><textarea name="text" rows="2" maxlength="4000" required
      aria-label="评论 comment" placeholder="处理进展（手机号等个人信息会被遮盖）"></textarea>
      <button type="submit">评论 <small>Comment</small></button></form>
      <form id="assign-form">转派给 <small>Reassign to</small> <input name="owner" maxlength="256" required>
      <button type="submit">转派 <small>Assign</small></button></form>` : ""}
    <h3>审计 <small>Audit trail</small></h3><table class="grid" id="audit"><thead><tr><th>时间 When</th><th>谁 Who</th>
      <th>操作 What</th><th>从 From</th><th>到 To</th></tr></thead><tbody>${t.audit.map((a) => `<tr><td>${when(a.at)}</td>
      <td>${esc(a.actor)}</td><td>${ACTIONS[a.action] || esc(a.action)}</td><td>${esc(a.from ?? "")}</td>
      <td>${esc(a.to ?? "")}</td></tr>`).join("")}</tbody></table></section>`);
  main.append(section);
  const reload = () => { main.replaceChildren(); return ticketView(main, ctx, id); };
  const act = async (path, body) => {
    try {
      await api(`/tickets/${id}/${path}`, { method: "POST", body });
      await reload();
    } catch (exc) {
      ctx.showError(exc);
    }
  };
  if (canAct) {
    const buttons = section.querySelector("#status-actions");
    for (const [status, label] of NEXT[t.status] || []) {
      const button = el(`<button type="button" class="primary" data-status="${status}"></button>`);
      button.textContent = label;
      button.addEventListener("click", () => act("status", { status }));
      buttons.append(button);
    }
    section.querySelector("#comment-form").addEventListener("submit", (e) => {
      e.preventDefault();
      act("comments", { text: e.target.text.value });
    });
    section.querySelector("#assign-form").addEventListener("submit", (e) => {
      e.preventDefault();
      act("assign", { owner: e.target.owner.value.trim() });
    });
  }
}
