"""Aspect models on bdci2018_car_aspect and absa_chinese_aspect_polarity.

* Aspect detection (bdci): which of the 10 car aspects a comment talks about; one NB-LR head per
  aspect over hashed char n-grams; scored by macro-F1 over aspects on an 80/20 split by content.
* Aspect polarity (bdci + ABSA APC): negative/neutral/positive of one aspect in its context, with
  the same two-head linear model as document sentiment; input = ``term‖clause`` (see
  ``voc.sentiment.aspects.aspect_input``). Scored by macro-F1 on bdci's 20% and ABSA's test files.

The shipped default (``models/sentiment/default/aspect``) is the polarity model trained on all of
bdci and the ABSA training files; voc uses it for aspect mentions without an adjacent opinion word.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from models.sentiment.data import LabelledData, data_root
from models.sentiment.linear_train import LinearConfig, fit_head, train_linear
from models.sentiment.train import decide, score_labels
from voc.sentiment.aspects import aspect_input
from voc.sentiment.linear import LinearSentimentModel, make_vectorizer

BDCI = "bdci2018_car_aspect/train_2.csv"
ABSA_DIR = "absa_chinese_aspect_polarity/apc"
ABSA_DOMAINS = ("camera", "car", "notebook", "phone", "hair", "mooc")
_POLARITY = {
    "-1": "negative",
    "0": "neutral",
    "1": "positive",
    "negative": "negative",
    "neutral": "neutral",
    "positive": "positive",
}
_CLAUSE_END = re.compile(r"[，,。.！!？?；;\s]")
ASPECT_CONFIG = LinearConfig(ngram_range=(1, 3), polarity_c=4.0, subjectivity_c=2.0, balanced=True)


def read_bdci(root: Path | None = None) -> list[dict[str, str]]:
    with ((root or data_root()) / BDCI).open(encoding="utf-8-sig", newline="") as handle:
        return [row for row in csv.DictReader(handle) if row["content"].strip()]


def _join_chars(line: str) -> str:
    tokens = line.split()
    if tokens and sum(len(t) == 1 for t in tokens) >= 0.8 * len(tokens):
        return "".join(tokens)  # the camera/car/notebook/phone/mooc files space every character
    return line.strip()


def clause_around(text: str, start: int, end: int) -> str:
    left = start
    while left > 0 and not _CLAUSE_END.match(text[left - 1]):
        left -= 1
    right = end
    while right < len(text) and not _CLAUSE_END.match(text[right]):
        right += 1
    return text[left:right]


def read_apc(path: Path) -> LabelledData:
    lines = path.read_text(encoding="utf-8").splitlines()
    data = LabelledData()
    for i in range(0, len(lines) - 2, 3):
        sentence, term, polarity = _join_chars(lines[i]), _join_chars(lines[i + 1]), lines[i + 2].strip()
        if "$T$" not in sentence or polarity.lower() not in _POLARITY:
            data.dropped["malformed"] = data.dropped.get("malformed", 0) + 1
            continue
        start = sentence.index("$T$")
        text = sentence.replace("$T$", term, 1)
        data.texts.append(aspect_input(term, clause_around(text, start, start + len(term))))
        data.labels.append(_POLARITY[polarity.lower()])
    return data


def bdci_split(rows: list[dict[str, str]], seed: int = 0) -> tuple[set[str], set[str]]:
    ids = sorted({r["content_id"] for r in rows})
    train_ids, test_ids = train_test_split(ids, test_size=0.2, random_state=seed)
    return set(train_ids), set(test_ids)


def bdci_polarity(rows: list[dict[str, str]], ids: set[str]) -> LabelledData:
    data = LabelledData()
    for row in rows:
        if row["content_id"] in ids:
            data.texts.append(aspect_input(row["subject"], row["content"].strip()))
            data.labels.append(_POLARITY[row["sentiment_value"].strip()])
    return data


def _detection_data(rows: list[dict[str, str]], ids: set[str]) -> tuple[list[str], list[set[str]]]:
    by_id: dict[str, tuple[str, set[str]]] = {}
    for row in rows:
        if row["content_id"] in ids:
            by_id.setdefault(row["content_id"], (row["content"].strip(), set()))[1].add(row["subject"])
    texts = [by_id[k][0] for k in sorted(by_id)]
    return texts, [by_id[k][1] for k in sorted(by_id)]


def evaluate_detection(rows: list[dict[str, str]], seed: int = 0) -> dict[str, Any]:
    """Train one head per aspect on 80% of contents, score multi-label F1 on the other 20%."""
    train_ids, test_ids = bdci_split(rows, seed)
    aspects = sorted({r["subject"] for r in rows})
    vectorizer = make_vectorizer(2**20, (1, 3))
    train_texts, train_sets = _detection_data(rows, train_ids)
    test_texts, test_sets = _detection_data(rows, test_ids)
    x_train = sp.csr_matrix(vectorizer.transform(train_texts))
    x_test = sp.csr_matrix(vectorizer.transform(test_texts))
    scores = np.zeros((len(test_texts), len(aspects)))
    for j, aspect in enumerate(aspects):
        y = np.asarray([aspect in s for s in train_sets], dtype=np.int8)
        scores[:, j] = fit_head(x_train, y, c=4.0, alpha=1.0).decision(x_test)
    pred = scores > 0
    pred[np.arange(len(pred)), scores.argmax(axis=1)] = True  # every comment names at least one aspect
    gold = np.asarray([[a in s for a in aspects] for s in test_sets])
    return {
        "n_test_contents": len(test_texts),
        "macro_f1": round(float(f1_score(gold, pred, average="macro", zero_division=0)), 4),
        "micro_f1": round(float(f1_score(gold, pred, average="micro", zero_division=0)), 4),
        "per_aspect_f1": {
            a: round(float(f), 4)
            for a, f in zip(aspects, f1_score(gold, pred, average=None, zero_division=0), strict=True)
        },
    }


def _score_model(model: LinearSentimentModel, data: LabelledData) -> dict[str, Any]:
    started = time.perf_counter()
    proba = model.predict_proba(data.texts)
    elapsed = time.perf_counter() - started
    result = score_labels(data.labels, decide(proba, data.is_binary))
    result["docs_per_s"] = round(len(data.texts) / elapsed, 1) if elapsed > 0 else None
    return result


def absa_files(split_name: str, root: Path | None = None) -> dict[str, Path]:
    base = (root or data_root()) / ABSA_DIR
    return {d: base / f"{d}.{split_name}.txt" for d in ABSA_DOMAINS if (base / f"{d}.{split_name}.txt").is_file()}


def evaluate_default_aspect(model_dir: str | Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Benchmark protocol: train on bdci 80% + ABSA train files, score bdci 20% and ABSA test files.

    With ``model_dir`` the given polarity model is scored instead (it may have seen the test rows
    of bdci if it was trained on everything, so the split figures are then optimistic).
    """
    rows = read_bdci()
    train_ids, test_ids = bdci_split(rows, seed)
    if model_dir:
        model = LinearSentimentModel.load(model_dir)
    else:
        train = bdci_polarity(rows, train_ids)
        for path in absa_files("train").values():
            train.extend(read_apc(path))
        model = train_linear(train, ASPECT_CONFIG)
    result: dict[str, Any] = {"detection_bdci": evaluate_detection(rows, seed)}
    result["polarity_bdci"] = _score_model(model, bdci_polarity(rows, test_ids))
    result["polarity_absa"] = {d: _score_model(model, read_apc(p)) for d, p in absa_files("test").items()}
    return result


def train_default_aspect(out: str | Path) -> dict[str, Any]:
    """The shipped aspect polarity model: all of bdci and every ABSA training file."""
    rows = read_bdci()
    data = bdci_polarity(rows, {r["content_id"] for r in rows})
    for path in absa_files("train").values():
        data.extend(read_apc(path))
    model = train_linear(data, ASPECT_CONFIG, meta={"sources": [BDCI, f"{ABSA_DIR}/*.train.txt"]})
    model.save(out)
    return {
        "kind": "aspect",
        "out": str(out),
        "n": len(data.texts),
        "label_counts": {k: data.labels.count(k) for k in ("negative", "neutral", "positive")},
    }
