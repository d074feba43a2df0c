"""Webhook settings: where alerts go, in which message format, signed with which secret.

Configured in settings ``alerts_webhooks`` (``VOC_ALERTS_WEBHOOKS`` as JSON, or ``[[alerts_webhooks]]`` in
the TOML config), never through the API. Secrets are never logged or returned: `public` masks them and
the URL's query (robot URLs carry their access token there).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from voc.redaction import MASK

WebhookFormat = Literal["json", "wecom", "dingtalk", "feishu"]


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2000)
    format: WebhookFormat = "json"
    # json: the HMAC-SHA256 key of the X-Voc-Signature header; dingtalk/feishu: the robot's 加签 secret
    secret: SecretStr | None = None
    timeout: float = Field(10.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http_only(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return value

    def public(self) -> dict[str, Any]:
        """What may be shown: the secret masked, the URL without its query (robot tokens live there)."""
        parts = urlsplit(self.url)
        shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"
        if parts.query:
            shown += f"?{MASK}"
        return {"name": self.name, "url": shown, "format": self.format,
                "secret": MASK if self.secret else None}


def parse_webhooks(raw: list[dict[str, Any]]) -> dict[str, WebhookConfig]:
    """Validate the configured webhooks; an error names the webhook and the field, never a secret."""
    hooks: dict[str, WebhookConfig] = {}
    problems: list[str] = []
    for position, item in enumerate(raw, start=1):
        label = f"alerts_webhooks[{position}]"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" ({item['name']})"
        try:
            hook = WebhookConfig.model_validate(item)
        except ValidationError as exc:
            problems.extend(f"{label}: {'.'.join(map(str, e['loc'])) or '(webhook)'}: "
                            f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors(include_input=False))
            continue
        if hook.name in hooks:
            problems.append(f"{label}: name: {hook.name!r} is used twice")
        hooks[hook.name] = hook
    if problems:
        raise ValueError("; ".join(problems))
    return hooks
