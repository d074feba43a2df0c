// Alerts (告警): the list (filter by status and rule) with each alert's evidence snippets and ticket, buttons to
// acknowledge, close or reopen it (for those who work tickets), the rules in force, and for admins the webhook delivery log and a "run scheduled rules now" button.
// Every value from the server goes through esc(): titles and snippets hold customer text.
import { api } from "./api.js";
import { el, esc } from "./util.js";

const STATUS = { open: "待处理 open", acknowledged: "已确认 acknowledged", closed: "已关闭 closed" };
const KINDS = { low_score: "低分 low score", escalation: "升级风险 escalation", rising: "上升 rising",
  emerging_topic: "新话题 new topic" };
// What a person may set an alert to (the server accepts any of the three).
const NEXT = { acknowledged: "确认 Acknowledge", closed: "关闭 Close", open: "重新打开 Reopen" };
const when = (ts) => (ts ? String(ts).replace("T", " ").slice(0, 16) : "–");

export async function alertsView(main, ctx, params) {
  const filters = { status: params.get("status") || "", rule: params.get("rule") || "" };
  const [{ alerts }, { rules }] = await Promise.all([
    api("/alerts", { params: { status: filters.status || undefined, rule: filters.rule || undefined, limit: 200 } }),
    api("/alerts/rules"),
  ]);
  const section = el(`<section class="alerts"><h2>告警 <small>Alerts</small> <span class="muted" id="alert-count"></span></h2>
    <form class="alert-filters" id="alert-filters">
      <label>状态 Status <select name="status"><option value="">全部 all</option>
        ${Object.entries(STATUS).map(([v, label]) => `<option value="${v}">${label}</option>`).join("")}</select></label>
      <label>规则 Rule <select name="rule"><option value="">全部 all</option>
        ${rules.map((r) => `<option value="${esc(r.name)}">${esc(r.name)}</option>`).join("")}</select></label>
      <button type="submit">筛选 <small>Filter</small></button></form>
    <ol class="alert-list" id="alert-list"></ol>
    <h3>规则 <small>Rules</small></h3>
    <table class="grid" id="rule-table"><thead><tr><th>名称 Name</th><th>类型 Kind</th><th>范围 Scope</th>
      <th>冷却 Cooldown</th><th>通知 Webhooks</th><th>工单 Ticket</th></tr></thead><tbody></tbody></table>
    <div id="admin-part"></div></section>`);
  const form = section.querySelector("form");
  form.status.value = filters.status;
  form.rule.value = filters.rule;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (form.status.value) q.set("status", form.status.value);
    if (form.rule.value) q.set("rule", form.rule.value);
    location.hash = `#/alerts${q.toString() ? "?" + q : ""}`;
  });
  section.querySelector("#alert-count").textContent = String(alerts.length);
  const list = section.querySelector("#alert-list");
  if (!alerts.length) list.append(el(`<li class="muted">没有告警 / no alerts</li>`));
  for (const a of alerts) {
    const ticket = a.ticket_id ? ` · <a href="#/tickets/${encodeURIComponent(a.ticket_id)}">工单 ticket #${esc(a.ticket_id)}</a>` : "";
    list.append(el(`<li data-alert="${a.id}"><b>#${a.id} ${esc(a.title)}</b>
      <span class="badge">${STATUS[a.status] || esc(a.status)}</span>
      <div class="muted small">${when(a.fired_at)} · ${esc(KINDS[a.kind] || a.kind)} · 规则 rule ${esc(a.rule)}
        · ${esc(a.subject)}${ticket}</div>
      <ul class="quotes">${a.snippets.map((s) => `<li>${esc(s)}</li>`).join("")}</ul>
      <div class="muted small">证据 evidence: ${a.document_ids.map((id) => esc(id)).join(", ") || "–"}</div>
      ${ctx.can("act") ? `<div class="actions">${Object.entries(NEXT).filter(([v]) => v !== a.status).map(([v, label]) =>
        `<button type="button" data-status="${v}">${label}</button>`).join(" ")}</div>` : ""}</li>`));
  }
  list.addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-status]");
    if (!button) return;
    const id = button.closest("li[data-alert]").dataset.alert;
    button.disabled = true;
    try {
      await api(`/alerts/${id}/status`, { method: "POST", body: { status: button.dataset.status } });
      main.replaceChildren();  // show the list as it is now
      await alertsView(main, ctx, params);
    } catch (exc) {
      ctx.showError(exc);
      button.disabled = false;
    }
  });
  const body = section.querySelector("#rule-table tbody");
  if (!rules.length) body.append(el(`<tr><td colspan="6" class="muted">没有规则 / no rules (voc alerts rules import)</td></tr>`));
  for (const r of rules) {
    const scope = Object.entries(r.scope || {}).filter(([, v]) => v.length).map(([k, v]) => `${k}: ${v.join(", ")}`);
    body.append(el(`<tr><td>${esc(r.name)}${r.enabled ? "" : ' <span class="muted">(off)</span>'}</td>
      <td>${esc(KINDS[r.kind] || r.kind)}</td><td>${esc(scope.join("; ") || "全部 all")}</td><td>${esc(r.cooldown)}</td>
      <td>${esc((r.webhooks || []).join(", ") || "–")}</td>
      <td>${r.ticket ? `${esc(r.ticket.owner)} · ${esc(r.ticket.sla_hours)} h` : "–"}</td></tr>`));
  }
  main.append(section);
  if (ctx.can("admin")) await adminPart(section.querySelector("#admin-part"), ctx);
}

async function adminPart(target, ctx) {
  const { deliveries } = await api("/alerts/deliveries", { params: { limit: 50 } });
  const part = el(`<div><p><button type="button" id="run-alerts">运行定时规则 <small>Run scheduled rules now</small></button>
    <span class="muted" id="run-state"></span></p>
    <h3>推送记录 <small>Webhook deliveries</small></h3>
    <table class="grid" id="delivery-table"><thead><tr><th>#</th><th>告警 Alert</th><th>Webhook</th><th>状态 Status</th>
      <th class="n">尝试 Attempts</th><th>错误 Last error</th><th>时间 Updated</th></tr></thead><tbody>
      ${deliveries.map((d) => `<tr class="${d.status === "failed" ? "overdue" : ""}"><td>${d.id}</td><td>${d.alert_id}</td>
        <td>${esc(d.webhook)}</td><td>${esc(d.status)}</td><td class="n">${d.attempts}</td><td>${esc(d.last_error || "")}</td>
        <td>${when(d.updated_at)}</td></tr>`).join("") || '<tr><td colspan="7" class="muted">无 none</td></tr>'}
    </tbody></table></div>`);
  part.querySelector("#run-alerts").addEventListener("click", async (e) => {
    e.target.disabled = true;
    try {
      const job = await api("/alerts/run", { method: "POST", body: {} });
      part.querySelector("#run-state").textContent = `任务 job ${job.job_id} 已提交 queued`;
      ctx.notice("定时规则已开始运行 / scheduled rules are running; reload to see new alerts");
    } catch (exc) {
      ctx.showError(exc);
    } finally {
      e.target.disabled = false;
    }
  });
  target.append(part);
}
