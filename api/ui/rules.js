// Rule preview: try a boolean rule on the stored documents before putting it on an indicator.
// Texts from the server only ever go in through text nodes (textContent / append of strings), never as
// markup; the one static template below holds no data.
import { api } from "./api.js";
import { el, markedText, num } from "./util.js";

export { markedText }; // moved to util.js (the document view marks spans too)

const SYNTAX = 'AND · OR · NOT · "短语 phrase" · a NEAR/5 b · NEG(满意) · ( )';

export function rulePreview(ctx, { limit = 10 } = {}) {
  const form = el(`<form class="rule-preview"><h2>规则预览 <small>Rule preview</small></h2>
    <p class="muted small syntax"></p>
    <textarea name="rule" rows="2" maxlength="500" aria-label="规则 rule"
      placeholder="(退款 OR 退钱) AND (没到账 OR 太慢) NOT 运费险"></textarea>
    <div class="actions"><button type="submit" class="primary">预览 <small>Preview</small></button></div>
    <p class="rule-error error-text" role="alert"></p><p class="rule-summary" role="status"></p>
    <ul class="rule-sample quotes"></ul></form>`);
  const $ = (s) => form.querySelector(s);
  $(".syntax").textContent = SYNTAX;

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const rule = form.rule.value.trim();
    $(".rule-error").textContent = "";
    $(".rule-summary").textContent = "";
    $(".rule-sample").replaceChildren();
    if (!rule) { $(".rule-error").textContent = "请输入规则 / enter a rule"; return; }
    try {
      const r = await api("/indicators/preview-rule", { method: "POST", body: { rule, limit } });
      $(".rule-summary").textContent = `${num(r.matches)} / ${num(r.documents_scanned)} 条文档匹配 documents match`
        + (r.truncated ? " · 已截断 scan truncated" : "");
      $(".rule-sample").replaceChildren(...r.sample.map((item) => {
        const li = document.createElement("li");
        li.title = item.document_id;
        li.append(...markedText(item.text, item.span_start, item.span_end));
        return li;
      }));
    } catch (exc) {
      if (exc.status !== 422) { ctx.showError(exc); return; }
      $(".rule-error").textContent = exc.message;
      const position = exc.details?.[0]?.position;
      if (Number.isInteger(position)) {  // put the cursor where the problem is
        form.rule.focus();
        form.rule.setSelectionRange(position, position + 1);
      }
    }
  });
  return {
    element: form,
    setRule(text) { form.rule.value = text; form.requestSubmit(); },
  };
}
