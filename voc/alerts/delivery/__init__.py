"""Webhook delivery: configuration (`config`), message formats (`formats`), signed sending with retries
(`sender`: header names and how a receiver verifies them)."""

from voc.alerts.delivery.config import WebhookConfig, parse_webhooks
from voc.alerts.delivery.sender import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, sign, verify

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "WebhookConfig", "WebhookSender", "parse_webhooks", "sign",
           "verify"]
