"""Message bodies and signed URLs per webhook format.

- ``json``: the alert as JSON (``{"event": "alert", "alert": {...}}``; a notice such as a ticket escalation:
  ``{"event": "ticket.escalated", "data": {...}}``), signed by the sender's X-Voc-Signature header (see
  `voc.alerts.delivery.sender`).
- ``wecom`` (企业微信群机器人): ``{"msgtype": "markdown", "markdown": {"content": ...}}``.
- ``dingtalk`` (钉钉自定义机器人): ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with a 加签
  secret the URL gets ``timestamp`` (ms) and ``sign`` = urlencode(base64(HMAC-SHA256(secret,
  "{timestamp}\\n{secret}"))), as DingTalk documents.
- ``feishu`` (飞书自定义机器人): ``{"msg_type": "post", "content": {"post": {"zh_cn": {...}}}}``; with a
  签名校验 secret the body gets ``timestamp`` (s) and ``sign`` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}",
  msg="")), as Feishu documents.
Snippets are the store's masked text, cut short; no secret is ever part of a body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

from voc.alerts.delivery.config import WebhookConfig

MAX_SNIPPETS = 3
SNIPPET_CHARS = 120


def lines(alert: dict[str, Any]) -> tuple[str, list[str]]:
    """The title and the body lines every robot format shows (an alert, or an event with a ``type``)."""
    if "type" in alert:
        return _event_lines(alert)
    title = f"[voc] {alert['title']}"
    body = [f"规则 rule: {alert['rule']} ({alert['kind']})", f"对象 subject: {alert['subject']}",
            f"时间 fired: {alert['fired_at']}"]
    if alert.get("ticket_id"):
        body.append(f"工单 ticket: {alert['ticket_id']}")
    for snippet in alert.get("snippets", [])[:MAX_SNIPPETS]:
        body.append(f"> {snippet[:SNIPPET_CHARS]}")
    ids = alert.get("document_ids", [])
    if ids:
        body.append(f"证据 evidence: {', '.join(ids[:10])}{' …' if len(ids) > 10 else ''}")
    return title, body


def payload(hook: WebhookConfig, alert: dict[str, Any], now_ms: int) -> tuple[str, dict[str, Any]]:
    """The URL to post to and the JSON body, for this webhook's format at time ``now_ms``."""
    title, body = lines(alert)
    if hook.format == "wecom":
        content = "\n".join([f"**{title}**", *body])
        return hook.url, {"msgtype": "markdown", "markdown": {"content": content}}
    if hook.format == "dingtalk":
        text = "\n\n".join([f"#### {title}", *body])
        url = hook.url
        if hook.secret:
            url = _with_query(url, f"timestamp={now_ms}&sign={dingtalk_sign(hook.secret.get_secret_value(), now_ms)}")
        return url, {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if hook.format == "feishu":
        content = [[{"tag": "text", "text": line}] for line in body]
        message: dict[str, Any] = {"msg_type": "post",
                                   "content": {"post": {"zh_cn": {"title": title, "content": content}}}}
        if hook.secret:
            seconds = now_ms // 1000
            message = {"timestamp": str(seconds), "sign": feishu_sign(hook.secret.get_secret_value(), seconds),
                       **message}
        return hook.url, message
    if "type" in alert:
        return hook.url, {"event": alert["type"], "data": alert}
    return hook.url, {"event": "alert", "alert": alert}


def _event_lines(event: dict[str, Any]) -> tuple[str, list[str]]:
    """A notice that is not an alert: a ticket escalated to the next level, say."""
    if event["type"] == "ticket.escalated":
        title = f"[voc] 工单升级 ticket #{event['ticket_id']} → {event['to_owner']}: {event['title']}"
        body = [f"原负责人 from: {event['from_owner']}", f"级别 level: {event['level']}",
                f"超时 overdue since: {event['overdue_since']}", f"新截止 due: {event['due_at']}"]
        if event.get("alert_id"):
            body.append(f"告警 alert: {event['alert_id']} ({event.get('rule') or ''})")
        return title, body
    return f"[voc] {event['type']}", [f"{key}: {value}" for key, value in event.items() if key != "type"]


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _with_query(url: str, extra: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
