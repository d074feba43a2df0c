"""XLSX indicator trees: ``id``/``parent_id`` rows, or level columns (一级指标, 二级指标, …) per row."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO, Any

from voc.indicators.io import FIELD_ALIASES, IndicatorFileError, level_of, parse_tree
from voc.indicators.model import IndicatorTree
from voc.spreadsheet_safety import append_text_safe_row

COLUMNS = ("id", "parent_id", "level", "kind", "name", "definition", "keywords", "synonyms", "survey_question",
           "status", "version", "rule", "exclude")
_PREFERRED_SHEETS = ("indicators", "指标体系", "指标")


def _rows(path: Path) -> tuple[str, list[str], list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise IndicatorFileError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        sheet = next((workbook[name] for name in workbook.sheetnames if name.lower() in _PREFERRED_SHEETS),
                     workbook.worksheets[0])
        rows = [(number, list(values)) for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                if any(v not in (None, "") for v in values)]
        title = sheet.title
    finally:
        workbook.close()
    if not rows:
        raise IndicatorFileError(f"{path}: sheet has no rows")
    _, header = rows[0]
    names = [str(h).strip() if h is not None else "" for h in header]
    return title, names, rows[1:]


def read_xlsx(path: Path) -> IndicatorTree:
    title, header, rows = _rows(path)
    origin = f"{path} (sheet {title!r})"
    levels = sorted((level, i) for i, h in enumerate(header) if (level := level_of(h)) is not None)
    fields = {name: i for name in FIELD_ALIASES for i, h in enumerate(header)
              if h.lower() in FIELD_ALIASES[name] and i not in {col for _, col in levels}}
    if not rows:
        raise IndicatorFileError(f"{origin}: the header row is there but no indicator rows follow")
    if levels:
        return _from_level_columns(origin, levels, fields, rows)
    if "name" not in fields:
        raise IndicatorFileError(f"{origin}: no name column (name/名称/指标名称) and no level columns "
                                 "(一级指标/二级指标/… or level1/level2/…)")
    return _from_parent_rows(origin, fields, rows)


def _record(fields: dict[str, int], values: list[Any]) -> dict[str, Any]:
    out = {}
    for name, col in fields.items():
        value = values[col] if col < len(values) else None
        if value not in (None, ""):
            out[name] = str(value).strip() if not isinstance(value, str) else value.strip()
    return out


def _from_parent_rows(origin: str, fields: dict[str, int], rows: list[tuple[int, list[Any]]]) -> IndicatorTree:
    records: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for number, values in rows:
        record = _record(fields, values)
        if "name" not in record:
            raise IndicatorFileError(f"{origin}: row {number} has no name")
        node_id = record.get("id") or f"R{number}"
        if node_id in records:
            raise IndicatorFileError(f"{origin}: row {number}: duplicate id {node_id!r}")
        record["id"], record["_row"], record["children"] = node_id, number, []
        records[node_id] = record
        order.append(node_id)
    roots = []
    for node_id in order:
        record = records[node_id]
        parent = record.pop("parent_id", None)
        if parent is None:
            roots.append(record)
        elif parent not in records:
            raise IndicatorFileError(f"{origin}: row {record['_row']}: parent {parent!r} is not an id in the sheet")
        else:
            records[parent]["children"].append(record)
    reachable = _count(roots)
    if reachable != len(records):
        stuck = sorted(set(order) - _ids(roots))
        raise IndicatorFileError(f"{origin}: parent_id cycle among {', '.join(stuck[:5])}")
    for record in records.values():
        if not record["children"]:
            del record["children"]
        del record["_row"]
    return parse_tree({"indicators": roots}, origin)


def _count(nodes: list[dict[str, Any]]) -> int:
    return sum(1 + _count(node.get("children", [])) for node in nodes)


def _ids(nodes: list[dict[str, Any]]) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        out.add(node["id"])
        out |= _ids(node.get("children", []))
    return out


def _from_level_columns(origin: str, levels: list[tuple[int, int]], fields: dict[str, int],
                        rows: list[tuple[int, list[Any]]]) -> IndicatorTree:
    """Each row spells a path; the deepest filled level is the node its other cells describe."""
    roots: list[dict[str, Any]] = []
    by_path: dict[tuple[str, ...], dict[str, Any]] = {}
    fields = {k: v for k, v in fields.items() if k not in ("name", "parent_id")}
    last: list[str] = []
    for number, values in rows:
        path = [str(values[col]).strip() if col < len(values) and values[col] not in (None, "") else ""
                for _, col in levels]
        # merged cells export as blanks below the first row: a blank level repeats the row above
        depth = max((i for i, part in enumerate(path) if part), default=-1)
        if depth < 0:
            raise IndicatorFileError(f"{origin}: row {number} names no indicator in any level column")
        path = [part or (last[i] if i < len(last) else "") for i, part in enumerate(path[:depth + 1])]
        if "" in path:
            raise IndicatorFileError(f"{origin}: row {number}: level {path.index('') + 1} is empty above "
                                     f"{path[depth]!r}")
        last = path
        siblings = roots
        for i in range(depth + 1):
            key = tuple(path[:i + 1])
            node = by_path.get(key)
            if node is None:
                node = {"name": path[i]}
                by_path[key] = node
                siblings.append(node)
            if i < depth:
                siblings = node.setdefault("children", [])
        record = _record(fields, values)
        if record:
            node.update(record)
    return parse_tree({"indicators": roots}, origin)


def write_xlsx(tree: IndicatorTree, target: IO[bytes] | Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "indicators"
    sheet.append(list(COLUMNS))
    # Names and definitions come from users and suggestions: none may become a live formula.
    for loc in tree.walk():
        node = loc.node
        append_text_safe_row(sheet, [
            node.id, loc.parent.id if loc.parent else None, loc.level, "group" if node.is_group else "indicator",
            node.name, node.definition, "、".join(node.keywords), "、".join(node.synonyms), node.survey_question,
            node.status, node.version, node.rule, node.exclude])
    workbook.save(target)
