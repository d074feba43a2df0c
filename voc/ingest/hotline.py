"""Hotline call transcripts: turns with speaker roles from `坐席：…`-style lines or JSON turn lists."""

from __future__ import annotations

import json
import re
from typing import Any

from voc.documents import Turn

_ROLE_WORDS = {
    "agent": ("坐席", "客服", "话务员", "工作人员", "agent", "staff", "service", "csr", "a"),
    "customer": ("客户", "用户", "顾客", "来电人", "来电者", "customer", "user", "caller", "client", "b"),
    "system": ("系统", "ivr", "system"),
}
_ROLE_BY_WORD = {word: role for role, words in _ROLE_WORDS.items() for word in words}
_ROLE_CODES = {"0": "customer", "1": "agent"}  # JDDC-style exports number the speakers
_LINE = re.compile(
    r"^\s*[\[【(（]?\s*(?P<who>[^\s:：\]】)）]{1,8})\s*[\]】)）]?\s*[:：]\s*(?P<text>.*)$"
)


class TranscriptError(ValueError):
    pass


def role_of(speaker: Any) -> str | None:
    word = str(speaker).strip().lower()
    word = re.sub(r"[\d#号\s]+$", "", word) or word  # 坐席1, 客服#2, 客服123号
    return _ROLE_BY_WORD.get(word) or _ROLE_CODES.get(word)


def parse_transcript(text: str) -> list[Turn]:
    """Split `坐席：…\\n客户：…` text into turns; lines without a speaker continue the previous turn."""
    turns: list[Turn] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        role = role_of(match.group("who")) if match else None
        if match and role:
            turns.append(Turn(role=role, text=match.group("text").strip()))
        elif turns:
            turns[-1].text = f"{turns[-1].text} {line.strip()}".strip()
        else:
            turns.append(Turn(role="other", text=line.strip()))
    if not any(turn.role in ("agent", "customer") for turn in turns):
        raise TranscriptError("no speaker-labelled lines (expected e.g. '坐席：…' and '客户：…')")
    return turns


def parse_turn_list(value: Any) -> list[Turn]:
    """Turns from a JSON list of objects: {role|speaker, text|content|utterance}."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"turns is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, list) or not value:
        raise TranscriptError("turns must be a non-empty list")
    turns: list[Turn] = []
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            raise TranscriptError(f"turn {position} is not an object")
        speaker = item.get("role", item.get("speaker", item.get("from")))
        text = item.get("text", item.get("content", item.get("utterance")))
        if not isinstance(text, str):
            raise TranscriptError(f"turn {position} has no text")
        role = role_of(speaker) if speaker is not None else None
        turns.append(Turn(role=role or "other", text=text.strip()))
    if not any(turn.role in ("agent", "customer") for turn in turns):
        raise TranscriptError("no turn has a recognised speaker role (agent/坐席 or customer/客户)")
    return turns


def customer_text(turns: list[Turn]) -> str:
    return "\n".join(turn.text for turn in turns if turn.role == "customer" and turn.text)


def render_transcript(turns: list[Turn]) -> str:
    labels = {"agent": "坐席", "customer": "客户", "system": "系统"}
    return "\n".join(f"{labels.get(turn.role, '其他')}：{turn.text}" for turn in turns)
