"""Labelled examples for the indicators of a tree: read from a file, checked, learned from.

A file (CSV, TSV, JSONL, XLSX) with a text column and an indicator column; the indicator cell names
one or more indicators by id or name, separated by ; ； , ， 、 or |. Rows whose text is empty or
whose labels name no indicator of the tree are rejected with the reason (row number, never the text:
examples are customer feedback and may carry PII). The model keeps hashed weights only, no text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voc.exemplars import MIN_EXAMPLES, ExemplarModel, featurise, train_exemplars
from voc.indicators.model import IndicatorTree
from voc.ingest.readers import read_records

LABEL_SPLIT_RE = re.compile(r"[;；,，、|]")
TEXT_COLUMNS = ("text", "文本", "内容", "content", "反馈")
LABEL_COLUMNS = ("indicator", "indicators", "指标", "标签", "label", "labels")
MAX_REJECTS_LISTED = 50


class ExampleFileError(ValueError):
    """The examples file as a whole cannot be used (no such column, nothing usable)."""


@dataclass(slots=True)
class Examples:
    texts: list[str] = field(default_factory=list)
    labels: list[set[str]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, row: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTS_LISTED:
            self.rejected.append({"row": row, "reason": reason})


def _column(columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str) -> str:
    if wanted:
        if wanted not in columns:
            raise ExampleFileError(f"no column {wanted!r} for the {what}; columns: {', '.join(columns)}")
        return wanted
    found = next((c for c in columns if c.lower() in candidates), None)
    if found is None:
        raise ExampleFileError(f"no {what} column (looked for {', '.join(candidates)}); name it with an option")
    return found


def read_examples(path: Path, tree: IndicatorTree, normalise: Callable[[str], str], text_column: str | None = None,
                  label_column: str | None = None) -> Examples:
    lookup: dict[str, str] = {}
    for located in tree.active():
        lookup.setdefault(located.node.name, located.node.id)
        lookup[located.node.id] = located.node.id
    examples = Examples()
    columns: tuple[str, str] | None = None
    for record in read_records(path):
        if columns is None:
            names = list(record.values)
            columns = (_column(names, text_column, TEXT_COLUMNS, "text"),
                       _column(names, label_column, LABEL_COLUMNS, "indicator"))
        if record.problem:
            examples.reject(record.row, record.problem)
            continue
        text = normalise(str(record.values.get(columns[0]) or "")).strip()
        cell = str(record.values.get(columns[1]) or "")
        names = [part.strip() for part in LABEL_SPLIT_RE.split(cell) if part.strip()]
        unknown = [name for name in names if name not in lookup]
        if not text:
            examples.reject(record.row, "empty text")
        elif not names:
            examples.reject(record.row, "no indicator named")
        elif unknown:
            examples.reject(record.row, f"not an active indicator of the tree: {', '.join(unknown)[:200]}")
        else:
            examples.texts.append(text)
            examples.labels.append({lookup[name] for name in names})
    if not examples.texts:
        raise ExampleFileError(f"{path}: no usable example ({examples.rejected_count} rows rejected)")
    return examples


def learn(examples: Examples, tree: IndicatorTree, segment: Callable[[str], list[str]], out: Path,
          background: Sequence[str] = ()) -> dict[str, Any]:
    """Train and save the exemplar model; a summary of what was learned for whom.

    ``background``: other feedback (stored documents) that serves as negatives for every head beside
    the examples of other indicators; without it a file that labels one indicator only would teach
    nothing (every example positive).
    """
    ids = [located.node.id for located in tree.active()]
    labelled = set(examples.texts)
    others = [text for text in background if text not in labelled]
    model = train_exemplars(featurise([*examples.texts, *others], segment),
                            [*examples.labels, *([set()] * len(others))], ids)
    model.save(out)
    counts = {indicator_id: sum(indicator_id in labels for labels in examples.labels) for indicator_id in ids}
    summary = {"examples": len(examples.texts), "background": len(others), "rejected": examples.rejected_count,
               "rejected_rows": examples.rejected, "tree_version": tree.version,
               "learned": dict(zip(model.indicator_ids, model.counts, strict=True)),
               "too_few": {k: v for k, v in counts.items() if 0 < v < MIN_EXAMPLES}, "min_examples": MIN_EXAMPLES}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


def load_learned(directory: Path) -> ExemplarModel | None:
    """The learned model, or None; one forgotten or replaced while being read counts as none."""
    try:
        return ExemplarModel.load(directory)
    except FileNotFoundError:
        return None
