"""Alert rules: the model, and loading a YAML/JSON rule file with errors that name the rule and the field.

A rule file is a list of rules (or ``{"rules": [...]}``)::

    - name: 差评                 # unique; letters, digits, _ - . and CJK
      kind: low_score            # low_score | escalation | rising | emerging_topic
      scope: {source: [survey], store: [浦东店]}
      sensitivity: {score_max: 6, rating_max: 2}
      cooldown: 24h              # same rule + same subject fires once within this (s, m, h, d or seconds)
      webhooks: [ops]            # names of configured webhooks (settings ``alerts_webhooks``)
      ticket: {owner: 浦东店, sla_hours: 24}

Kinds and their sensitivity knobs:
- ``low_score``: a survey score ≤ ``score_max`` (default 6: an NPS detractor) or a review rating ≤
  ``rating_max`` (default 2). Subject: the document.
- ``escalation``: the document's tokens match ``rule`` (the indicator rule language of
  `voc.indicators.rules`; default `ESCALATION_RULE`). Subject: the document.
- ``rising``: per ``by`` (topic, store or indicator), volume or negative share in the last ``interval``
  beyond chance against the ``baseline_periods`` before (the tests of `voc.topics.trends.emerging`, with
  ``alpha``, ``z_threshold``, ``min_count``); ``measure`` picks volume, negative_share or both.
  Subject: the topic, store or indicator.
- ``emerging_topic``: a topic that had no documents in the baseline and is now significant. Subject: the topic.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexing import Filters

RuleKind = Literal["low_score", "escalation", "rising", "emerging_topic"]
PER_DOCUMENT_KINDS: tuple[str, ...] = ("low_score", "escalation")
AGGREGATE_KINDS: tuple[str, ...] = ("rising", "emerging_topic")

# Escalation language: threats to take the complaint outside (consumer association, the 12315 hotline,
# the media, a court, a lawyer) and claims of statutory compensation (退一赔三, 假一赔十).
ESCALATION_RULE = (
    '消协 OR 消费者协会 OR 12315 OR 12345 OR 315 OR 曝光 OR 媒体 OR 记者 OR 起诉 OR 律师函 OR 律师 OR 法院 OR '
    '"退一赔三" OR 退一赔三 OR "假一赔十" OR 假一赔十 OR 工商局 OR 市场监管 OR 市场监督管理局 OR 投诉到底 OR 维权'
)

_NAME = re.compile(r"^[\w\-.\u3400-\u9fff]{1,64}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class RuleError(ValueError):
    """A rule file or rule that cannot be used; the message names the rule and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scope(_Strict):
    """Which documents a rule looks at: each listed field must hold one of its values (empty: any).
    The names are those of `indexing.Filters` (plus indicator and region), so an organisation scope
    (a store manager's stores, a region's) maps onto a rule scope field by field."""

    source: list[str] = Field(default_factory=list)
    channel: list[str] = Field(default_factory=list)
    industry: list[str] = Field(default_factory=list)
    product: list[str] = Field(default_factory=list)
    store: list[str] = Field(default_factory=list)
    sentiment: list[str] = Field(default_factory=list)
    topic: list[int] = Field(default_factory=list)
    indicator: list[str] = Field(default_factory=list)  # documents mapped to one of these indicators
    region: list[str] = Field(default_factory=list)  # the document's meta "region" (an ingested column)

    def to_filters(self) -> Filters:
        """The part a search can apply (indicator and region are not search filters)."""
        return Filters(source=list(self.source), channel=list(self.channel), industry=list(self.industry),
                       product=list(self.product), store=list(self.store), sentiment=list(self.sentiment),
                       topic=list(self.topic))

    def admits(self, doc: Any, indicators: set[str] | None = None) -> bool:
        """Whether a document (a `Document` or a store row) is in scope; ``indicators``: its mapped ones."""
        for name in ("source", "channel", "industry", "product", "store"):
            allowed = getattr(self, name)
            if allowed and getattr(doc, name, None) not in allowed:
                return False
        if self.sentiment and _sentiment(doc) not in self.sentiment:
            return False
        if self.topic and getattr(doc, "topic_id", None) not in self.topic:
            return False
        if self.region and _meta(doc).get("region") not in self.region:
            return False
        return not self.indicator or bool(indicators and indicators & set(self.indicator))


class Sensitivity(_Strict):
    score_max: float = Field(6, ge=0, le=10, description="low_score: survey score at most this (NPS detractor).")
    rating_max: float = Field(2, ge=0, le=5, description="low_score: review rating at most this.")
    rule: str = Field(ESCALATION_RULE, min_length=1, max_length=500,
                      description="escalation: words in the indicator rule language.")
    by: Literal["topic", "store", "indicator"] = "topic"
    measure: Literal["volume", "negative_share", "both"] = "both"
    interval: Literal["day", "week"] = "week"
    baseline_periods: int = Field(4, ge=1, le=52)
    alpha: float = Field(0.01, gt=0, lt=1, description="p-value below which volume is beyond chance.")
    z_threshold: float = Field(2.33, gt=0, description="z of the negative-share rise (2.33 ≈ p < 0.01).")
    min_count: int = Field(5, ge=1)


    @field_validator("rule")
    @classmethod
    def _rule_syntax(cls, value: str) -> str:
        from voc.indicators.rules import RuleSyntaxError, parse_rule

        try:
            parse_rule(value)
        except RuleSyntaxError as exc:
            raise ValueError(str(exc)) from None
        return value


class TicketSettings(_Strict):
    owner: str = Field(min_length=1, max_length=128)
    sla_hours: float = Field(24, gt=0, le=24 * 365)


class AlertRule(_Strict):
    name: str
    kind: RuleKind
    description: str = ""
    enabled: bool = True
    scope: Scope = Field(default_factory=Scope)
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)
    cooldown: timedelta = Field(timedelta(hours=24), description="Same rule + subject fires once within this.")
    webhooks: list[str] = Field(default_factory=list)
    ticket: TicketSettings | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("1-64 letters, digits, CJK characters, _ - or .")
        return value

    @field_validator("cooldown", mode="before")
    @classmethod
    def _cooldown(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a duration such as 30m, 24h, 7d or seconds")
        if isinstance(value, int | float):
            seconds = float(value)
        elif isinstance(value, str):
            match = _DURATION.match(value)
            if not match:
                raise ValueError(f"cannot read {value!r} as a duration; use e.g. 30m, 24h, 7d or seconds")
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
        else:
            return value
        if seconds < 0 or seconds > 366 * 86400:
            raise ValueError("between 0 and 366 days")
        return timedelta(seconds=seconds)

    @property
    def per_document(self) -> bool:
        return self.kind in PER_DOCUMENT_KINDS

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["cooldown"] = _duration_text(self.cooldown)
        return data


def _duration_text(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_rules(data: Any, origin: str = "rules") -> list[AlertRule]:
    """Validate rules given as parsed YAML/JSON; every problem named by rule and field, all at once."""
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list):
        raise RuleError(f"{origin}: expected a list of rules (or {{rules: [...]}}), got {type(data).__name__}")
    rules: list[AlertRule] = []
    problems: list[str] = []
    seen: set[str] = set()
    for position, item in enumerate(data, start=1):
        label = f"rule {position}"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" ({item['name']})"
        if not isinstance(item, dict):
            problems.append(f"{label}: expected a mapping, got {type(item).__name__}")
            continue
        try:
            rule = AlertRule.model_validate(item)
        except ValidationError as exc:
            problems.extend(f"{label}: {_field(error['loc'])}: {error['msg'].removeprefix('Value error, ')}"
                            for error in exc.errors(include_input=False))
            continue
        if rule.name in seen:
            problems.append(f"{label}: name: {rule.name!r} is used by an earlier rule")
            continue
        seen.add(rule.name)
        rules.append(rule)
    if problems:
        raise RuleError(f"{origin}: " + "; ".join(problems[:20]) + (" …" if len(problems) > 20 else ""))
    return rules


def load_rules(path: Path) -> list[AlertRule]:
    """Read a YAML (.yaml/.yml) or JSON rule file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read the rule file ({type(exc).__name__})") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise RuleError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                        f"{str(exc).splitlines()[0]}") from None
    except RecursionError:  # a crafted file of nested brackets: an error naming the file, not a crash
        raise RuleError(f"{path}: nested too deeply to be a rule file") from None
    try:
        return parse_rules(data, str(path))
    except RecursionError:
        raise RuleError(f"{path}: nested too deeply to be a rule file") from None


def dump_rules(rules: list[AlertRule], fmt: str = "yaml") -> str:
    data = [rule.to_json() for rule in rules]
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(rule)"


def _meta(doc: Any) -> dict[str, Any]:
    meta = getattr(doc, "meta", None) or {}
    extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
    return {**extra, **meta}


def _sentiment(doc: Any) -> str | None:
    return getattr(doc, "sentiment_label", None)
