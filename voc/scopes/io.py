"""Import and export of organisation trees: YAML, JSON (nested) and XLSX (one row per node).

YAML/JSON::

    name: 某连锁
    field: store            # the document field that places a document (store, channel, industry, product)
    root:
      name: 总部
      kind: head_office
      children:
        - name: 华东大区
          children:
            - {name: 上海徐汇店, values: [上海徐汇店, 徐汇店]}   # store values this node owns

A leaf without ``values`` owns its own name. Field names may be Chinese (名称, 类型, 门店, 下级…).
XLSX: columns ``id``, ``parent`` (id or name of the node above; empty for the root), ``name``, ``kind``,
``values`` (separated by 、 , ; or |); a "settings" sheet may give the tree's name and field. As for
indicator trees (voc.indicators.io), a file is read whole before anything is stored; any problem raises
``OrgFileError`` naming the file, the place and the problem.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import yaml

from voc.scopes.tree import OrgNode, OrgTree, OrgTreeError
from voc.spreadsheet_safety import append_text_safe_row
from voc.structured_files import read_structured

FORMATS = ("yaml", "json", "xlsx")
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "code", "编号", "编码", "节点编号"),
    "name": ("name", "名称", "节点", "组织", "机构"),
    "kind": ("kind", "type", "level", "类型", "层级"),
    "values": ("values", "stores", "store", "门店", "值", "对应值"),
    "parent": ("parent", "parent_id", "上级", "上级编号", "父级"),
    "children": ("children", "下级", "子节点"),
}
_SPLIT_RE = re.compile(r"[,，、;；|\n]+")
XLSX_COLUMNS = ("id", "parent", "name", "kind", "values")
SETTINGS_SHEET = "settings"  # the tree's name and mapping field, as name/value rows


class OrgFileError(ValueError):
    """A file that cannot become an organisation tree; the message names the file and the problem."""


def _get(item: dict[str, Any], name: str) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in item.items()}
    for alias in ALIASES[name]:
        if lowered.get(alias) not in (None, ""):
            return lowered[alias]
    return None


def _values(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = _SPLIT_RE.split(value)
    elif isinstance(value, list | tuple):
        if any(isinstance(v, dict | list) for v in value):
            raise OrgFileError(f"{where}: values must be plain strings")
        items = [str(v) for v in value if v is not None]
    elif isinstance(value, int | float):
        items = [str(value)]
    else:
        raise OrgFileError(f"{where}: values must be a list or a delimited string, not {type(value).__name__}")
    return list(dict.fromkeys(v.strip() for v in items if v and v.strip()))


def _node(item: Any, where: str, origin: str) -> OrgNode:
    if not isinstance(item, dict):
        raise OrgFileError(f"{origin}: {where} must be a mapping with at least a name, not {type(item).__name__}")
    name = _get(item, "name")
    if name is None or isinstance(name, dict | list) or not str(name).strip():
        raise OrgFileError(f"{origin}: {where} has no name")
    name = str(name).strip()
    here = f"{where} ({name!r})"
    raw_children = _get(item, "children")
    if raw_children is not None and not isinstance(raw_children, list):
        raise OrgFileError(f"{origin}: {here}: children must be a list")
    children = [_node(child, f"{where}.children[{i}]", origin) for i, child in enumerate(raw_children or [], 1)]
    values = _values(_get(item, "values"), f"{origin}: {here}")
    raw_id = _get(item, "id")
    return OrgNode(id=str(raw_id).strip() if raw_id is not None else name, name=name,
                   kind=str(_get(item, "kind") or "").strip(), values=values or ([] if children else [name]),
                   children=children)


def parse_tree(data: Any, origin: str = "<data>") -> OrgTree:
    """An ``OrgTree`` from parsed YAML/JSON: ``{root: {...}}``, a single root node, or a one-node list."""
    if isinstance(data, list):
        data = {"root": data}
    if not isinstance(data, dict):
        raise OrgFileError(f"{origin}: expected a mapping at the top, not {type(data).__name__}")
    root = data.get("root", data.get("根", data.get("nodes")))
    if root is None and _get(data, "name") is not None and (_get(data, "children") or _get(data, "values")):
        root, data = data, {}
    if isinstance(root, list):
        if len(root) != 1:
            raise OrgFileError(f"{origin}: the tree needs exactly one root (the head office), found {len(root)}")
        root = root[0]
    if root is None:
        raise OrgFileError(f"{origin}: no tree found: expected 'root' with a name and children")
    node = _node(root, "root", origin)
    field = str(data.get("field") or data.get("字段") or "store").strip()
    try:
        return OrgTree(root=node, mapping_field=field, name=str(data.get("name") or "组织架构"))
    except OrgTreeError as exc:
        raise OrgFileError(f"{origin}: {exc}") from None


def detect_format(path: Path, fmt: str | None) -> str:
    chosen = (fmt or path.suffix.lstrip(".")).lower().replace("yml", "yaml")
    if chosen not in FORMATS:
        raise OrgFileError(f"{path}: cannot tell the format ({chosen or 'no extension'!r}); "
                           f"use one of {', '.join(FORMATS)}")
    return chosen


def read_tree(path: Path, fmt: str | None = None) -> OrgTree:
    fmt = detect_format(path, fmt)
    if not path.is_file():
        raise OrgFileError(f"{path}: no such file")
    if fmt == "xlsx":
        return _read_xlsx(path)
    data = read_structured(path, fmt, OrgFileError, "an organisation tree")
    try:
        return parse_tree(data, str(path))
    except RecursionError:
        raise OrgFileError(f"{path}: nested too deeply to be an organisation tree") from None


def _read_xlsx(path: Path) -> OrgTree:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise OrgFileError(f"{path}: not a readable XLSX workbook ({type(exc).__name__})") from None
    try:
        rows = [(n, list(values)) for n, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), 1)
                if any(v not in (None, "") for v in values)]
        settings = {str(row[0]).strip(): row[1] for row in workbook[SETTINGS_SHEET].iter_rows(values_only=True)
                    if len(row) > 1 and row[0]} if SETTINGS_SHEET in workbook.sheetnames else {}
    finally:
        workbook.close()
    if len(rows) < 2:
        raise OrgFileError(f"{path}: expected a header row and one row per node")
    header = [str(h).strip().lower() if h is not None else "" for h in rows[0][1]]
    columns = {name: i for name in ALIASES for i, h in enumerate(header) if h in ALIASES[name]}
    if "name" not in columns:
        raise OrgFileError(f"{path}: no name column (name/名称)")
    nodes: dict[str, dict[str, Any]] = {}
    parents: dict[str, tuple[str | None, int]] = {}
    for number, values in rows[1:]:
        record = {name: values[i] if i < len(values) else None for name, i in columns.items()}
        item = {key: value for key, value in record.items() if key != "parent" and value not in (None, "")}
        if not str(item.get("name", "")).strip():
            raise OrgFileError(f"{path}: row {number} has no name")
        item["name"] = str(item["name"]).strip()
        node_id = str(item.get("id") or item["name"]).strip()
        if node_id in nodes:
            raise OrgFileError(f"{path}: row {number}: duplicate node {node_id!r}")
        nodes[node_id] = item
        parent = record.get("parent")
        parents[node_id] = (str(parent).strip() if parent not in (None, "") else None, number)
    by_name = {item["name"]: node_id for node_id, item in nodes.items()}
    roots = [node_id for node_id, (parent, _) in parents.items() if parent is None]
    if len(roots) != 1:
        raise OrgFileError(f"{path}: the tree needs exactly one row without a parent (the head office), "
                           f"found {len(roots)}")
    for node_id, (parent, number) in parents.items():
        if parent is None:
            continue
        parent_id = parent if parent in nodes else by_name.get(parent)
        if parent_id is None:
            raise OrgFileError(f"{path}: row {number}: unknown parent {parent!r}")
        nodes[parent_id].setdefault("children", []).append(nodes[node_id])
    reached = _count(nodes[roots[0]])
    if reached != len(nodes):
        raise OrgFileError(f"{path}: {len(nodes) - reached} rows are not under the root (a parent cycle)")
    return parse_tree({"root": nodes[roots[0]], "name": settings.get("name"), "field": settings.get("field")},
                      str(path))


def _count(item: dict[str, Any], depth: int = 0) -> int:
    if depth > 1000:
        raise OrgFileError("the tree is nested too deeply")
    return 1 + sum(_count(child, depth + 1) for child in item.get("children", []))


def dump_tree(tree: OrgTree, fmt: str) -> bytes:
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "organisation"
        sheet.append(list(XLSX_COLUMNS))
        for node, _depth in tree.walk():
            parent = tree.parent(node.id)
            append_text_safe_row(sheet, [node.id, parent.id if parent else None, node.name, node.kind,
                                         "、".join(node.values)])
        about = workbook.create_sheet(SETTINGS_SHEET)
        append_text_safe_row(about, ["name", tree.name])
        append_text_safe_row(about, ["field", tree.mapping_field])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    data = tree.to_dict()
    data.pop("version", None)
    if fmt == "json":
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120).encode("utf-8")
    raise OrgFileError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
