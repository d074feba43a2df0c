"""Alerts: rules over incoming feedback (low scores, escalation language, rising complaints, new topics),
evaluated on ingest and on a schedule, deduplicated within a cooldown, delivered to webhooks.

Public face: `AlertService` (built by the facade as ``Voc.alerts``), `AlertRule`, `load_rules`,
`parse_rules`, `RuleError`. Delivery formats and the signature scheme: `voc.alerts.delivery`.
"""

from voc.alerts.rules import AlertRule, RuleError, load_rules, parse_rules
from voc.alerts.service import AlertService

__all__ = ["AlertRule", "AlertService", "RuleError", "load_rules", "parse_rules"]
