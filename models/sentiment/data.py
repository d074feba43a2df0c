"""Reading labelled sentiment data (CSV or JSONL/JSON) and the public sets in ../shared/data.

Labels are normalised to "negative" / "neutral" / "positive"; rows whose label means no polarity
(SMP2020's ``surprise``, which can go either way) are dropped and counted, never silently.
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.model_selection import train_test_split

NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
DROP = "__drop__"

# SMP2020-EWECT emotions → polarity. surprise (惊奇) is dropped: in the data it covers both good news
# and shock, so any polarity would be a guess.
EMOTION_MAP: dict[str, str] = {
    "happy": POSITIVE,
    "angry": NEGATIVE,
    "sad": NEGATIVE,
    "fear": NEGATIVE,
    "neutral": NEUTRAL,
    "surprise": DROP,
}
_NAMED: dict[str, str] = {
    "negative": NEGATIVE,
    "neg": NEGATIVE,
    "负面": NEGATIVE,
    "消极": NEGATIVE,
    "neutral": NEUTRAL,
    "neu": NEUTRAL,
    "中性": NEUTRAL,
    "positive": POSITIVE,
    "pos": POSITIVE,
    "正面": POSITIVE,
    "积极": POSITIVE,
    **EMOTION_MAP,
}


@dataclass(slots=True)
class LabelledData:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)

    def extend(self, other: LabelledData) -> None:
        self.texts.extend(other.texts)
        self.labels.extend(other.labels)
        for key, n in other.dropped.items():
            self.dropped[key] = self.dropped.get(key, 0) + n

    @property
    def is_binary(self) -> bool:
        return NEUTRAL not in set(self.labels)


def data_root() -> Path:
    """The shared public data; ``VOC_DATA_DIR`` overrides the default ``../shared/data``."""
    env = os.environ.get("VOC_DATA_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def normalise_labels(raw: Sequence[str]) -> list[str]:
    """Map raw labels of one file to polarity names; 0/1 is binary unless -1 occurs (then -1/0/1)."""
    values = [str(v).strip().lower() for v in raw]
    ternary = any(v in {"-1", "-1.0"} for v in values)
    out: list[str] = []
    for value in values:
        if value in _NAMED:
            out.append(_NAMED[value])
            continue
        try:
            number = int(float(value))
        except ValueError:
            raise ValueError(f"unknown sentiment label {value!r}") from None
        if ternary:
            out.append({-1: NEGATIVE, 0: NEUTRAL, 1: POSITIVE}.get(number, ""))
        else:
            out.append({0: NEGATIVE, 1: POSITIVE}.get(number, ""))
        if not out[-1]:
            raise ValueError(f"unknown sentiment label {value!r}")
    return out


def _rows(path: Path) -> Iterable[dict[str, object]]:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        with path.open(encoding="utf-8-sig") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    elif suffix == ".json":
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
        yield from (payload if isinstance(payload, list) else [payload])
    else:
        # utf-8-sig: the public review CSVs start some files with a byte-order mark
        with path.open(encoding="utf-8-sig", newline="") as handle:
            dialect = "excel-tab" if suffix in {".tsv", ".tab"} else "excel"
            yield from csv.DictReader(handle, dialect=dialect)


def _pick(row_keys: Iterable[str], candidates: Sequence[str], what: str, path: Path) -> str:
    keys = list(row_keys)
    for name in candidates:
        if name in keys:
            return name
    raise ValueError(f"{path}: none of the {what} columns {list(candidates)} found (columns: {keys})")


def read_labelled(path: str | Path, text_col: str, label_col: str) -> LabelledData:
    """Read one file. ``text_col``/``label_col`` may list candidates: ``review,content``."""
    path = Path(path)
    text_names = [c.strip() for c in text_col.split(",") if c.strip()]
    label_names = [c.strip() for c in label_col.split(",") if c.strip()]
    texts: list[str] = []
    raw_labels: list[str] = []
    data = LabelledData()
    text_key = label_key = ""
    for row in _rows(path):
        if not text_key:
            text_key = _pick(row.keys(), text_names, "text", path)
            label_key = _pick(row.keys(), label_names, "label", path)
        text = str(row.get(text_key) or "").strip().lstrip("\ufeff")
        label = row.get(label_key)
        if not text or label is None or str(label).strip() == "":
            data.dropped["empty"] = data.dropped.get("empty", 0) + 1
            continue
        texts.append(text)
        raw_labels.append(str(label))
    for text, label, raw in zip(texts, normalise_labels(raw_labels), raw_labels, strict=True):
        if label == DROP:
            data.dropped[raw] = data.dropped.get(raw, 0) + 1
            continue
        data.texts.append(text)
        data.labels.append(label)
    return data


def read_many(paths: Sequence[str | Path], text_col: str, label_col: str) -> LabelledData:
    merged = LabelledData()
    for path in paths:
        merged.extend(read_labelled(path, text_col, label_col))
    return merged


# The public benchmark sets: name → (relative path, text column, label column)
PUBLIC_SETS: dict[str, tuple[str, str, str]] = {
    "waimai_10k": ("waimai_10k/waimai_10k.csv", "review", "label"),
    "chnsenticorp_htl_all": ("chnsenticorp_htl_all/ChnSentiCorp_htl_all.csv", "review", "label"),
    "online_shopping_10_cats": ("online_shopping_10_cats/online_shopping_10_cats.csv", "review", "label"),
    # the usual-domain training file (hashtags stripped upstream), surprise dropped, see EMOTION_MAP
    "smp2020_ewect": ("smp2020_ewect/usual_train_modified.csv", "content", "label"),
}
REVIEW_SETS = ("waimai_10k", "chnsenticorp_htl_all", "online_shopping_10_cats")


def load_public(name: str, root: Path | None = None) -> LabelledData:
    rel, text_col, label_col = PUBLIC_SETS[name]
    return read_labelled((root or data_root()) / rel, text_col, label_col)


@dataclass(slots=True)
class Split:
    train: LabelledData
    test: LabelledData


def split(data: LabelledData, test_size: float = 0.2, seed: int = 0) -> Split:
    """The benchmark split: stratified, 80/20, seed 0 (sklearn's ``train_test_split``)."""
    x_train, x_test, y_train, y_test = train_test_split(
        data.texts, data.labels, test_size=test_size, stratify=data.labels, random_state=seed
    )
    return Split(LabelledData(list(x_train), list(y_train)), LabelledData(list(x_test), list(y_test)))


# Anything that is not a letter, digit or CJK character (whitespace, punctuation, symbols).
_NON_WORD_RE = re.compile(r"[\W_]+")


def text_key(text: str) -> str:
    """The form under which two texts count as the same review when test texts leave training.

    NFKC, lower case, whitespace and punctuation removed: the hotel reviews shared by
    chnsenticorp_htl_all and online_shopping's 酒店 category often differ only in spaces or
    punctuation ("Chexk in倒是蛮快, …" vs "Chexkin倒是蛮快,…"), so exact matching left 219 of the
    1,553 htl test texts with a twin in training (seed-0 split).
    """
    return _NON_WORD_RE.sub("", unicodedata.normalize("NFKC", text).lower())


def without_texts(data: LabelledData, banned: set[str], normalise: bool = False) -> LabelledData:
    """Drop rows whose text is in ``banned`` (the sets overlap: 5,575 hotel reviews are in both
    chnsenticorp_htl_all and online_shopping's 酒店 category, so test texts must leave training).

    ``normalise`` compares ``text_key`` forms instead of exact strings, which also removes the
    near-duplicates (spacing/punctuation variants) that exact matching lets through; rows removed
    that way are counted under ``"near_duplicate_of_test"``.
    """
    keys = {text_key(t) for t in banned} if normalise else set()
    kept = LabelledData(dropped=dict(data.dropped))
    for text, label in zip(data.texts, data.labels, strict=True):
        if text in banned:
            kept.dropped["in_test"] = kept.dropped.get("in_test", 0) + 1
        elif normalise and text_key(text) in keys:
            kept.dropped["near_duplicate_of_test"] = kept.dropped.get("near_duplicate_of_test", 0) + 1
        else:
            kept.texts.append(text)
            kept.labels.append(label)
    return kept
