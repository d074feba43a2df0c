"""Webhook settings: where alerts go, in which message format, signed with which secret.

Configured in settings ``alerts_webhooks`` (``VOC_ALERTS_WEBHOOKS`` as JSON, or ``[[alerts_webhooks]]`` in
the TOML config), never through the API. Secrets are never logged or returned: `public` masks them and
the URL's query (robot URLs carry their access token there).
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from voc.redaction import MASK

WebhookFormat = Literal["json", "wecom", "dingtalk", "feishu", "email"]


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2000)
    format: WebhookFormat = "json"
    # json: the HMAC-SHA256 key of the X-Voc-Signature header; dingtalk/feishu: the robot's 加签 secret;
    # email: the SMTP password (with ``username``)
    secret: SecretStr | None = None
    timeout: float = Field(10.0, gt=0, le=120)
    # email only: url smtp://host[:port] (or smtps://), recipients, sender, STARTTLS, login
    to: list[str] = Field(default_factory=list, max_length=100)
    sender: str | None = Field(None, max_length=256)
    starttls: bool = False
    username: str | None = Field(None, max_length=256)

    @model_validator(mode="after")
    def _scheme(self) -> WebhookConfig:
        parts = urlsplit(self.url)
        if self.format == "email":
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("url: an e-mail webhook needs smtp://host[:port] or smtps://host[:port]")
            if not self.to or not all("@" in address for address in self.to):
                raise ValueError("to: an e-mail webhook needs recipient addresses")
        elif parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url: must be an http:// or https:// URL with a host")
        return self

    def public(self) -> dict[str, Any]:
        """What may be shown: the secret masked, the URL without its query (robot tokens live there)."""
        parts = urlsplit(self.url)
        shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"  # no user:pass
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
            for error in exc.errors(include_input=False):
                where = ".".join(map(str, error["loc"]))  # empty for the checks across fields (url + format)
                problems.append(f"{label}: {where + ': ' if where else ''}{error['msg'].removeprefix('Value error, ')}")
            continue
        if hook.name in hooks:
            problems.append(f"{label}: name: {hook.name!r} is used twice")
        hooks[hook.name] = hook
    if problems:
        raise ValueError("; ".join(problems))
    return hooks
