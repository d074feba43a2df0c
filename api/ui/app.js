// The shell: API key, role, hash routing (#/search, #/topics, #/topics/ID, #/indicators), messages, keys.
import { api, ApiError, clearKey, getKey, setKey } from "./api.js";
import { searchView } from "./search.js";
import { topicsView, topicView } from "./topics.js";
import { indicatorsView } from "./indicators.js";
import { driversView } from "./drivers.js";
import { ticketsView, ticketView } from "./tickets.js";
import { alertsView } from "./alerts.js";

const $ = (sel) => document.querySelector(sel);

export const ctx = {
  me: null,
  can: (permission) => Boolean(ctx.me && ctx.me.permissions.includes(permission)),
  showError(exc) {
    const box = $("#error");
    box.textContent = exc instanceof ApiError ? `错误 Error — ${exc.describe()}` : `错误 Error — ${exc.message || exc}`;
    box.hidden = false;
    if (exc instanceof ApiError && exc.status === 401) askKey("密钥无效或已吊销 / key invalid or revoked");
  },
  notice(text) {
    const box = $("#notice");
    box.textContent = text;
    box.hidden = false;
  },
  clearMessages() {
    $("#error").hidden = true;
    $("#notice").hidden = true;
  },
  // A confirm dialog in the page (keyboard: Enter confirms, Esc cancels); resolves true or false.
  confirm(text) {
    const dialog = $("#confirm-dialog");
    $("#confirm-text").textContent = text;
    dialog.returnValue = "";
    dialog.showModal();
    $("#confirm-ok").focus();
    return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
  },
};

function askKey(message = "") {
  const dialog = $("#key-dialog");
  $("#key-error").textContent = message;
  if (!dialog.open) dialog.showModal();
  $("#key-input").focus();
}

async function login(key) {
  try {
    ctx.me = await api("/me", { key });
  } catch (exc) {
    askKey(exc instanceof ApiError ? exc.describe() : String(exc));
    return false;
  }
  setKey(key);
  $("#role").textContent = `${ctx.me.role}${ctx.me.name ? " · " + ctx.me.name : ""}`;
  document.body.dataset.role = ctx.me.role;
  // the data scope: every count and list the UI shows is already cut to it by the server
  const scope = ctx.me.scope || [];
  $("#scope").textContent = scope.length ? `范围 ${scope.join(" + ")}` : "范围 全部";
  return true;
}

const VIEWS = { search: searchView, topics: topicsView, indicators: indicatorsView, drivers: driversView,
  tickets: ticketsView, alerts: alertsView };

async function route() {
  if (!ctx.me) return;
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, id] = path.split("/");
  const view = name in VIEWS ? name : "search";
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === view));
  ctx.clearMessages();
  const main = $("#view");
  main.replaceChildren();
  main.dataset.view = view;
  try {
    if (view === "topics" && id) await topicView(main, ctx, Number(id));
    else if (view === "tickets" && id) await ticketView(main, ctx, Number(id));
    else await VIEWS[view](main, ctx, new URLSearchParams(query));
  } catch (exc) {
    ctx.showError(exc);
  }
}

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target instanceof HTMLInputElement) return !["checkbox", "radio", "button", "submit"].includes(target.type);
  return target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName);
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector("dialog[open]")) return;
  if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
  if (typing(event.target)) return;
  if (event.key === "/") {
    const box = document.querySelector("#q");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
    else { location.hash = "#/search"; }
    return;
  }
  document.dispatchEvent(new CustomEvent("voc-key", { detail: event }));
});

$("#key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await login($("#key-input").value.trim())) {
    $("#key-dialog").close();
    $("#key-input").value = "";
    route();
  }
});
$("#key-dialog").addEventListener("cancel", (event) => { if (!ctx.me) event.preventDefault(); });
$("#change-key").addEventListener("click", () => { clearKey(); ctx.me = null; askKey(); });
window.addEventListener("hashchange", route);

(async () => {
  const key = getKey();
  if (key && (await login(key))) route();
  else askKey();
})();
