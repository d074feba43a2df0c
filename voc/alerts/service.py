"""The alert service: rules in the store, evaluation on ingest and on schedule, dedupe, tickets, delivery.

The facade (`voc.service.Voc.alerts`) builds it and wires what lives elsewhere: the tokenizer (rule terms
are tokenised like documents), topic labels, and ``open_ticket`` (the tickets service, injected so this
package never imports it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from voc.alerts.aggregate import evaluate_aggregate, newest_document
from voc.alerts.delivery.config import WebhookConfig, parse_webhooks
from voc.alerts.delivery.sender import Attempt, DeliveryResult, WebhookSender
from voc.alerts.evaluate import DocumentEvaluator, Firing
from voc.alerts.rules import AGGREGATE_KINDS, AlertRule, RuleError, dump_rules
from voc.alerts.store import AlertStore
from voc.settings import VocSettings

log = logging.getLogger(__name__)

OpenTicket = Callable[[dict[str, Any]], "str | None"]


class AlertService:
    def __init__(self, engine: Engine, *, webhooks: Sequence[dict[str, Any]] = (),
                 tokenize: Callable[[str], list[str]] | None = None,
                 topic_labels: Callable[[], dict[int, str]] | None = None,
                 open_ticket: OpenTicket | None = None, clock: Callable[[], datetime] = datetime.now,
                 sender: WebhookSender | None = None, background: bool = False,
                 notify_webhooks: Sequence[str] = ()) -> None:
        self.store = AlertStore(engine)
        # Bad webhook settings must not break ingest or reading alerts: they are reported where webhooks are
        # used (rule import, delivery, test-webhook) instead of here.
        self.webhook_error: str | None = None
        try:
            self.webhooks: dict[str, WebhookConfig] = parse_webhooks(list(webhooks))
        except ValueError as exc:
            self.webhooks, self.webhook_error = {}, f"invalid alerts_webhooks setting: {exc}"
            log.warning("%s", self.webhook_error)
        self.open_ticket = open_ticket
        self.notify_webhooks = list(notify_webhooks)
        self.sender = sender or WebhookSender()
        self._tokenize = tokenize
        self._topic_labels = topic_labels
        self._clock = clock
        self._background = background
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._evaluator: tuple[list[dict[str, Any]], DocumentEvaluator] | None = None

    @classmethod
    def from_settings(cls, settings: VocSettings, engine: Engine, **wiring: Any) -> AlertService:
        """Webhooks, attempts and backoff from settings; the rest (tokenizer, tickets…) as ``wiring``."""
        sender = WebhookSender(max_attempts=settings.alerts_delivery_attempts,
                               backoff_s=settings.alerts_backoff_seconds)
        return cls(engine, webhooks=settings.alerts_webhooks, sender=sender,
                   background=settings.alerts_background_delivery,
                   notify_webhooks=settings.alerts_notify_webhooks, **wiring)

    # --- rules --------------------------------------------------------------------------------
    def rules(self) -> list[AlertRule]:
        return self.store.rules()

    def import_rules(self, rules: Sequence[AlertRule], *, replace: bool = False) -> list[AlertRule]:
        unknown = sorted({(rule.name, hook) for rule in rules for hook in rule.webhooks if hook not in self.webhooks})
        if unknown:
            configured = ", ".join(sorted(self.webhooks)) or self.webhook_error or \
                "none configured (settings alerts_webhooks)"
            raise RuleError("; ".join(f"rule {name}: webhooks: {hook!r} is not a configured webhook"
                                      for name, hook in unknown) + f" (configured: {configured})")
        self.store.save_rules(rules, replace=replace, now=self._clock())
        return self.rules()

    def export_rules(self, fmt: str = "yaml") -> str:
        return dump_rules(self.rules(), fmt)

    # --- evaluation ---------------------------------------------------------------------------
    def on_committed(self, docs: Sequence[Any]) -> list[int]:
        """Per-document rules over documents a store commit just stored. Returns the new alert ids."""
        evaluator = self._document_evaluator()
        if not evaluator or not docs:
            return []
        return self._fire(evaluator.evaluate(docs))

    def run(self, *, at: datetime | None = None, rules: Sequence[str] = (),
            progress: Callable[[int], None] | None = None, deliver: bool = True) -> dict[str, Any]:
        """Evaluate the aggregate rules (rising, emerging_topic) for the period ending at ``at`` (default:
        the newest document, so a dated corpus is judged as of its own end), then send what is queued."""
        chosen = [rule for rule in self.rules() if rule.enabled and rule.kind in AGGREGATE_KINDS
                  and (not rules or rule.name in rules)]
        moment = at or newest_document(self.store.engine) or self._clock()
        fired: list[int] = []
        found = 0
        for rule in chosen:
            firings = evaluate_aggregate(rule, self.store.engine, at=moment, topic_labels=self._topic_labels)
            found += len(firings)
            fired.extend(self._fire(firings))
            if progress:
                progress(1)
        sent = self.deliver_pending() if deliver else {}
        return {"at": moment.isoformat(), "rules": [rule.name for rule in chosen], "found": found,
                "suppressed": found - len(fired), "alerts": [self.store.get(i) for i in fired],
                "deliveries": sent}

    def _document_evaluator(self) -> DocumentEvaluator:
        # Rules are re-read for every batch (another process may have changed them) but validated and
        # parsed again only when their stored definitions changed.
        key = self.store.definitions()
        with self._lock:
            if self._evaluator is None or self._evaluator[0] != key:
                rules = [AlertRule.model_validate(definition) for definition in key]
                self._evaluator = (key, DocumentEvaluator(rules, self._tokenize))
            return self._evaluator[1]

    def _fire(self, firings: Sequence[Firing]) -> list[int]:
        fired = self.store.fire(firings, self._clock())
        for alert_id, firing in fired:
            if firing.rule.ticket and self.open_ticket:
                self._ticket(alert_id, firing.rule)
        return [alert_id for alert_id, _ in fired]

    def _ticket(self, alert_id: int, rule: AlertRule) -> None:
        alert = self.store.get(alert_id)
        if alert is None or rule.ticket is None:
            return
        alert["ticket"] = rule.ticket.model_dump()
        try:
            ticket_id = self.open_ticket(alert) if self.open_ticket else None
        except Exception:  # the alert stands without its ticket; the reason is in the log, not the alert
            log.warning("alert %s: opening its ticket failed", alert_id, exc_info=True)
            return
        if ticket_id:
            self.store.set_ticket(alert_id, ticket_id)

    def remove(self, alert_ids: Sequence[int]) -> None:
        self.store.remove(alert_ids)

    # --- reading ------------------------------------------------------------------------------
    def alerts(self, *, status: Sequence[str] = (), rule: str | None = None, limit: int = 100,
               offset: int = 0) -> list[dict[str, Any]]:
        return self.store.list(status=status, rule=rule, limit=limit, offset=offset)

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        found = self.store.get(alert_id)
        if found is not None:
            found["deliveries"] = self.store.deliveries(alert_id=alert_id)
        return found

    def set_status(self, alert_id: int, status: str) -> dict[str, Any] | None:
        """Acknowledge, close or reopen an alert; None if there is no such alert."""
        return self.store.get(alert_id) if self.store.set_status(alert_id, status) else None

    def deliveries(self, *, status: Sequence[str] = (), limit: int = 100) -> list[dict[str, Any]]:
        return self.store.deliveries(status=status, limit=limit)

    def public_webhooks(self) -> list[dict[str, Any]]:
        return [hook.public() for hook in self.webhooks.values()]

    # --- delivery -----------------------------------------------------------------------------
    def after_ingest(self) -> None:
        """Send what the ingest queued: in a background thread in the server (a slow webhook must not hold
        the request), inline in the CLI (the process is about to exit)."""
        if self._background:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(1, thread_name_prefix="voc-alerts")
                self._executor.submit(self._deliver_logged)
        else:
            self.deliver_pending()

    def _deliver_logged(self) -> None:
        try:
            self.deliver_pending()
        except Exception:
            log.warning("alert delivery failed", exc_info=True)

    def deliver_pending(self, *, retry_failed: bool = False) -> dict[str, int]:
        """Send every queued delivery (each claimed first, so two processes never send one twice)."""
        if retry_failed:
            self.store.requeue(now=self._clock())
        counts = {"delivered": 0, "failed": 0}
        for row in self.store.pending_deliveries():
            if not self.store.claim(row["id"], self._clock()):
                continue
            result = self._deliver(row)
            counts[result.status] = counts.get(result.status, 0) + 1
        return counts

    def _deliver(self, row: dict[str, Any]) -> DeliveryResult:
        alert = self.store.get(row["alert_id"])
        hook = self.webhooks.get(row["webhook"])
        if alert is None or hook is None:
            reason = "the alert is gone" if alert is None else self.webhook_error or \
                f"webhook {row['webhook']!r} is not configured"
            self.store.record(row["id"], self._clock(), status="failed", attempts=row["attempts"], error=reason,
                              response_status=None)
            return DeliveryResult("failed", row["attempts"], reason, None)
        before = row["attempts"]

        def record(attempt: Attempt) -> None:  # each attempt is in the log at once, not only the outcome
            status = "delivered" if attempt.ok else "sending"
            self.store.record(row["id"], self._clock(), status=status, attempts=before + attempt.number,
                              error=attempt.error, response_status=attempt.response_status)

        result = self.sender.send(hook, alert, on_attempt=record)
        self.store.record(row["id"], self._clock(), status=result.status, attempts=before + result.attempts,
                          error=result.last_error, response_status=result.response_status)
        return result

    def notify(self, event: dict[str, Any]) -> None:
        """Send a notice that is not an alert (``{"type": "ticket.escalated", …}`` from the tickets service) to
        the ``alerts_notify_webhooks``, with the same retries and signing. Raises when a webhook could not
        be reached after its attempts, so the caller can record that (tickets put it in the audit trail)."""
        failures = []
        for name in self.notify_webhooks:
            hook = self.webhooks.get(name)
            result = self.sender.send(hook, event) if hook else None
            if result is None or result.status != "delivered":
                failures.append(f"{name}: {result.last_error if result else self.webhook_error or 'not configured'}")
        if failures:
            raise RuntimeError("notice not delivered to " + "; ".join(failures))

    def test_webhook(self, name: str) -> DeliveryResult:
        """Send a sample alert to one webhook (not stored, not logged as a delivery)."""
        hook = self.webhooks.get(name)
        if hook is None:
            configured = ", ".join(sorted(self.webhooks)) or self.webhook_error or "none"
            raise KeyError(f"no webhook named {name!r}; configured: {configured}")
        sample = {"id": 0, "rule": "test", "kind": "test", "subject": "test", "title": "voc 测试消息 test message",
                  "status": "open", "fired_at": self._clock().isoformat(), "document_ids": [], "snippets": [],
                  "detail": {}, "ticket_id": None}
        return self.sender.send(hook, sample)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def wait_idle(self) -> None:
        """Wait for background deliveries queued so far (tests, shutdown)."""
        with self._lock:
            executor = self._executor
        if executor is not None:
            done: Future[None] = executor.submit(lambda: None)
            done.result()
