"""Posting one alert to one webhook: bounded attempts, exponential backoff with jitter, signed bodies.

Signature (generic ``json`` webhooks with a ``secret``): two headers,

    X-Voc-Timestamp: 1733212345                      (Unix seconds when the attempt was sent)
    X-Voc-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body bytes)>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body exactly as received, compares
with `hmac.compare_digest`, and rejects timestamps more than a few minutes old (replays). Each retry is
signed afresh. Robot formats (企业微信/钉钉/飞书) use their platform's own signing (see formats.py).

Retried: connection errors, timeouts, HTTP 408/429/5xx, and robot replies with a non-zero errcode/code
(their rate limits answer HTTP 200). Not retried: other 4xx (the request itself is wrong). Sleeping,
the clock and the jitter are injected, so tests run without waiting.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from voc.alerts.delivery.config import WebhookConfig
from voc.alerts.delivery.formats import lines, payload

TIMESTAMP_HEADER = "X-Voc-Timestamp"
SIGNATURE_HEADER = "X-Voc-Signature"
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_REPLY_BYTES = 64_000


@dataclass(slots=True)
class Attempt:
    number: int
    ok: bool
    error: str | None
    response_status: int | None
    retry: bool


@dataclass(slots=True)
class DeliveryResult:
    status: str  # delivered | failed
    attempts: int
    last_error: str | None
    response_status: int | None


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None,
           tolerance_s: float = 300) -> bool:
    """What a receiver does (shown here so the scheme is executable documentation, and used in tests)."""
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


class WebhookSender:
    def __init__(self, *, max_attempts: int = 5, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 jitter: Callable[[], float] = random.random) -> None:
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    def delay(self, attempt: int) -> float:
        """Before retry ``attempt`` (1 = the first retry): exponential, capped, with "equal jitter"
        (half fixed, half random) so many failed deliveries do not retry in lockstep."""
        ceiling = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        return ceiling / 2 + self._jitter() * ceiling / 2

    def send(self, hook: WebhookConfig, alert: dict[str, Any],
             on_attempt: Callable[[Attempt], None] | None = None) -> DeliveryResult:
        last: Attempt | None = None
        for number in range(1, self.max_attempts + 1):
            if number > 1:
                self._sleep(self.delay(number - 1))
            last = self._attempt(hook, alert, number)
            if on_attempt:
                on_attempt(last)
            if last.ok or not last.retry:
                break
        assert last is not None
        return DeliveryResult("delivered" if last.ok else "failed", last.number, last.error, last.response_status)

    def _attempt(self, hook: WebhookConfig, alert: dict[str, Any], number: int) -> Attempt:
        if hook.format == "email":
            return _email(hook, alert, number)
        now = self._clock()
        url, body_json = payload(hook, alert, int(now * 1000))
        body = json.dumps(body_json, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "voc-alerts"}
        if hook.format == "json" and hook.secret:
            stamp = int(now)
            headers[TIMESTAMP_HEADER] = str(stamp)
            headers[SIGNATURE_HEADER] = sign(hook.secret.get_secret_value(), stamp, body)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with _opener.open(request, timeout=hook.timeout) as response:
                status = response.status
                reply = response.read(MAX_REPLY_BYTES)
        except urllib.error.HTTPError as exc:
            return Attempt(number, False, f"HTTP {exc.code}", exc.code, exc.code in RETRY_STATUSES)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            # Only the kind of failure: a message could quote the URL, and robot URLs hold their token.
            reason = getattr(exc, "reason", exc)
            return Attempt(number, False, f"{type(exc).__name__}: {type(reason).__name__}", None, True)
        problem = _robot_error(reply) if hook.format != "json" else None
        if problem:
            return Attempt(number, False, problem, status, True)
        return Attempt(number, True, None, status, False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is reported, not followed: a POST with an alert must not be re-sent somewhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _robot_error(reply: bytes) -> str | None:
    """企业微信/钉钉 answer {"errcode": 0}; 飞书 {"code": 0} (older: {"StatusCode": 0}). Anything else is an error."""
    try:
        data = json.loads(reply.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("errcode", "code", "StatusCode"):
        value = data.get(key)
        if isinstance(value, int) and value != 0:
            message = str(data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or "")[:200]
            return f"robot error {value}: {message}".strip()
    return None


def _email(hook: WebhookConfig, alert: dict[str, Any], number: int) -> Attempt:
    """One attempt to mail the alert through SMTP (smtplib): refused sender, recipients or login are not
    retried; connection problems and other SMTP errors are."""
    title, body = lines(alert)
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = hook.sender or "voc-alerts@localhost"
    message["To"] = ", ".join(hook.to)
    message.set_content("\n".join(body))
    parts = urlsplit(hook.url)
    secure = parts.scheme == "smtps"
    try:
        client = smtplib.SMTP_SSL if secure else smtplib.SMTP
        with client(parts.hostname or "", parts.port or (465 if secure else 25), timeout=hook.timeout) as smtp:
            if hook.starttls and not secure:
                smtp.starttls()
            if hook.username and hook.secret:
                smtp.login(hook.username, hook.secret.get_secret_value())
            smtp.send_message(message)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError) as exc:
        return Attempt(number, False, f"SMTP {type(exc).__name__}", getattr(exc, "smtp_code", None), False)
    except (smtplib.SMTPException, OSError) as exc:
        return Attempt(number, False, f"SMTP {type(exc).__name__}", getattr(exc, "smtp_code", None), True)
    return Attempt(number, True, None, 250, False)
