"""Import and export of indicator trees: YAML, JSON and XLSX, in the shapes other CX tools use.

Accepted shapes (field names in English or Chinese, see ``FIELD_ALIASES``):

* nested ``children`` lists (``{"indicators": [{"name": ..., "children": [...]}]}`` or a bare list);
* ``groups`` each holding ``indicators`` (groups may hold ``groups`` again);
* XLSX: one row per node with ``id`` and ``parent_id`` columns, or one row per indicator with level
  columns (``一级指标``/``二级指标``/``三级指标`` or ``level1``/``level2``/…) where each row spells its path.

A file is read whole before anything is stored; any problem raises ``IndicatorFileError`` naming the
file, the place in it and what is wrong.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import yaml

from voc.indicators.model import STATUSES, Indicator, IndicatorTree, valid_id
from voc.indicators.rules import RuleSyntaxError, parse_rule
from voc.structured_files import read_structured

FORMATS = ("yaml", "json", "xlsx")
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "code", "编号", "编码", "指标编码", "指标编号", "指标id"),
    "name": ("name", "title", "label", "名称", "指标名称", "指标", "名字"),
    "definition": ("definition", "description", "desc", "定义", "说明", "指标定义", "描述"),
    "keywords": ("keywords", "keyword", "关键词", "关键字"),
    "synonyms": ("synonyms", "synonym", "aliases", "同义词", "近义词", "别名"),
    "survey_question": ("survey_question", "question", "问卷题目", "题目", "调研问题", "问题"),
    "status": ("status", "状态"),
    "parent_id": ("parent_id", "parent", "上级", "上级编号", "父级", "父级编号", "上级指标编号"),
    "kind": ("kind", "type", "类型"),
    "rule": ("rule", "规则", "匹配规则", "布尔规则"),
    "exclude": ("exclude", "exclude_rule", "排除", "排除规则"),
}
_STATUS_ALIASES = {"启用": "active", "有效": "active", "草稿": "draft", "停用": "retired", "废弃": "retired"}
_SPLIT_RE = re.compile(r"[,，、;；|/\n]+")
_LEVEL_RE = re.compile(r"^(?:level\s*(\d)|([一二三四五六七八九])级(?:指标)?|l(\d))$", re.IGNORECASE)
_CN_DIGITS = "一二三四五六七八九"
_CHILD_KEYS = ("children", "indicators", "groups", "子指标", "下级", "指标")
_ROOT_KEYS = ("indicators", "children", "groups", "tree", "nodes", "指标体系", "指标")


class IndicatorFileError(ValueError):
    """A file that cannot become an indicator tree; the message names the file and the problem."""


def _field(item: dict[str, Any], name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in item.items()}
    for alias in FIELD_ALIASES[name]:
        value = lowered.get(alias)
        if value in (None, "") or (isinstance(value, dict | list) and name not in ("keywords", "synonyms")):
            continue  # a list under 指标 is a child list, not a name
        return value
    return None


def _words(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = _SPLIT_RE.split(value)
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value if v is not None]
    else:
        raise IndicatorFileError(f"{where}: keywords/synonyms must be a list or a delimited string, "
                                 f"not {type(value).__name__}")
    return list(dict.fromkeys(w.strip() for w in items if w and w.strip()))


def _status(value: Any, where: str) -> str:
    status = str(value or "active").strip()
    status = _STATUS_ALIASES.get(status, status.lower())
    if status not in STATUSES:
        raise IndicatorFileError(f"{where}: unknown status {value!r} (one of {', '.join(STATUSES)})")
    return status


def _rule(value: Any, where: str, name: str) -> str:
    """A rule's text, checked for syntax here so that a bad rule stops the import (terms are checked
    against the tokenizer by the service, which has one)."""
    text = "" if value is None else str(value).strip()
    if text:
        try:
            parse_rule(text)
        except RuleSyntaxError as exc:
            raise IndicatorFileError(f"{where}: {name} {text!r}: {exc}") from None
    return text


class _Builder:
    """Turns nested dicts of any accepted shape into nodes, assigning ids to nodes without one."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.seen: dict[str, str] = {}

    def node(self, item: Any, where: str, parent_id: str | None, index: int, group_hint: bool) -> Indicator:
        if not isinstance(item, dict):
            raise IndicatorFileError(f"{self.origin}: {where} must be a mapping with at least a name, "
                                     f"not {type(item).__name__}")
        name = _field(item, "name")
        if name is None or not str(name).strip():
            raise IndicatorFileError(f"{self.origin}: {where} has no name")
        name = str(name).strip()
        raw_id = _field(item, "id")
        node_id = str(raw_id).strip() if raw_id is not None else (f"{parent_id}.{index}" if parent_id else str(index))
        here = f"{where} ({name!r})"
        if not valid_id(node_id):
            raise IndicatorFileError(f"{self.origin}: {here} has an invalid id {node_id!r} "
                                     "(letters, digits, '.', '-', '_', ':' and '/' only)")
        if node_id in self.seen:
            raise IndicatorFileError(f"{self.origin}: duplicate id {node_id!r} at {here} and {self.seen[node_id]}")
        self.seen[node_id] = here
        children: list[Indicator] = []
        has_child_key = False
        for key in _CHILD_KEYS:
            value = item.get(key)
            if value is None:
                continue
            has_child_key = True
            if not isinstance(value, list):
                raise IndicatorFileError(f"{self.origin}: {here}: '{key}' must be a list")
            for i, child in enumerate(value, start=1):
                children.append(self.node(child, f"{where}.{key}[{i}]", node_id, len(children) + 1,
                                          key == "groups"))
        question = _field(item, "survey_question")
        kind = str(_field(item, "kind") or "").strip().lower()
        if kind not in ("", "group", "indicator", "分组", "指标"):
            raise IndicatorFileError(f"{self.origin}: {here}: unknown kind {kind!r} (group or indicator)")
        is_group = bool(children) or has_child_key or group_hint or kind in ("group", "分组")
        return Indicator(
            id=node_id, name=name, definition=str(_field(item, "definition") or "").strip(),
            keywords=_words(_field(item, "keywords"), f"{self.origin}: {here}"),
            synonyms=_words(_field(item, "synonyms"), f"{self.origin}: {here}"),
            survey_question=str(question).strip() if question else None,
            status=_status(_field(item, "status"), f"{self.origin}: {here}"),
            rule=_rule(_field(item, "rule"), f"{self.origin}: {here}", "rule"),
            exclude=_rule(_field(item, "exclude"), f"{self.origin}: {here}", "exclude"),
            kind="group" if is_group else "indicator", children=children,
        )


def parse_tree(data: Any, origin: str = "<data>") -> IndicatorTree:
    """An ``IndicatorTree`` from parsed YAML/JSON of any accepted shape."""
    name = "指标体系"
    if isinstance(data, dict):
        name = str(data.get("name") or data.get("名称") or name)
        roots = next((data[key] for key in _ROOT_KEYS
                      if key in data), None)
        key = next((k for k in _ROOT_KEYS if k in data), "")
        if roots is None:
            if _field(data, "name") is not None:  # a single root node
                roots, key = [data], "root"
            else:
                raise IndicatorFileError(f"{origin}: no indicators found: expected a list of nodes, or a "
                                         "mapping with 'indicators', 'children' or 'groups'")
    elif isinstance(data, list):
        roots, key = data, "indicators"
    else:
        raise IndicatorFileError(f"{origin}: expected a mapping or a list at the top, not {type(data).__name__}")
    if not isinstance(roots, list) or not roots:
        raise IndicatorFileError(f"{origin}: '{key}' must be a non-empty list of nodes")
    builder = _Builder(origin)
    nodes = [builder.node(item, f"{key}[{i}]", None, i, key == "groups") for i, item in enumerate(roots, 1)]
    return IndicatorTree(name=name, nodes=nodes)


def detect_format(path: Path, fmt: str | None) -> str:
    if fmt:
        fmt = fmt.lower().replace("yml", "yaml")
        if fmt not in FORMATS:
            raise IndicatorFileError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
        return fmt
    suffix = path.suffix.lower().lstrip(".").replace("yml", "yaml")
    if suffix not in FORMATS:
        raise IndicatorFileError(f"{path}: cannot tell the format from the extension {path.suffix!r}; "
                                 f"use --format {'|'.join(FORMATS)}")
    return suffix


def read_tree(path: Path, fmt: str | None = None) -> IndicatorTree:
    fmt = detect_format(path, fmt)
    if not path.is_file():
        raise IndicatorFileError(f"{path}: no such file")
    if fmt == "xlsx":
        from voc.indicators.xlsx import read_xlsx

        return read_xlsx(path)
    data = read_structured(path, fmt, IndicatorFileError, "an indicator tree")
    try:
        return parse_tree(data, str(path))
    except RecursionError:
        raise IndicatorFileError(f"{path}: nested too deeply to be an indicator tree") from None


def dump_tree(tree: IndicatorTree, fmt: str) -> bytes:
    """The tree as a file: YAML/JSON in the nested ``children`` shape, XLSX as id/parent_id rows."""
    if fmt == "xlsx":
        from voc.indicators.xlsx import write_xlsx

        buffer = io.BytesIO()
        write_xlsx(tree, buffer)
        return buffer.getvalue()
    data = tree.to_dict()
    if fmt == "json":
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120).encode("utf-8")
    raise IndicatorFileError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def level_of(header: str) -> int | None:
    """1-based level of a level column header (一级指标, level2, L3), or None."""
    match = _LEVEL_RE.match(header.strip())
    if not match:
        return None
    digit = match.group(1) or match.group(3)
    return int(digit) if digit else _CN_DIGITS.index(match.group(2)) + 1
