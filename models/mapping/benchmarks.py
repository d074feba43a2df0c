"""The public mapping benchmarks: labelled documents, the indicator tree written for them, and what
voc's mapper concludes about each (document, indicator) pair.

- ``bdci_car``: bdci2018 car forum comments, 10 labelled aspects; tree ``bench/car_indicators.yaml``.
- ``zhijiang``: zhijiang2019 cosmetics reviews, 13 categories; tree ``bench/cosmetics_indicators.yaml``
  (其他, "other", is no indicator and leaves the labels).

Both trees were written by hand from domain knowledge, not mined from the labels. Splits: 80/20 by
text, seed 0 (``models.aspects.corpora.category_splits``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from models.aspects.corpora import CategoryDocument, category_splits
from voc.indicators.corpus import ClauseView, DocView
from voc.indicators.io import read_tree
from voc.indicators.mapping import TERM_VIAS, DocumentMapping, Mapper
from voc.indicators.model import Indicator, IndicatorTree
from voc.sentiment.types import SentimentAnalyzer

ROOT = Path(__file__).resolve().parents[2]
TREES = {"bdci_car": ROOT / "bench" / "car_indicators.yaml", "zhijiang": ROOT / "bench" / "cosmetics_indicators.yaml"}
NOT_INDICATORS = {"其他"}


@dataclass(slots=True)
class Benchmark:
    name: str
    tree: IndicatorTree
    leaves: list[Indicator]  # one per labelled category, by name
    train: tuple[CategoryDocument, ...]
    test: tuple[CategoryDocument, ...]

    def labels(self, documents: Sequence[CategoryDocument]) -> np.ndarray:
        """(n_documents, n_leaves) bool: which indicators each document is labelled with."""
        return np.array([[leaf.name in d.categories for leaf in self.leaves] for d in documents], dtype=bool)

    def label_sets(self, documents: Sequence[CategoryDocument]) -> list[set[str]]:
        by_name = {leaf.name: leaf.id for leaf in self.leaves}
        return [{by_name[c] for c in d.categories if c in by_name} for d in documents]


def load_benchmark(name: str) -> Benchmark:
    tree = read_tree(TREES[name])
    leaves = [loc.node for loc in tree.walk() if not loc.node.is_group]
    train, test = category_splits(name)
    return Benchmark(name, tree, leaves, train, test)


def doc_views(analyzer: SentimentAnalyzer, texts: Sequence[str], batch: int = 256) -> list[DocView]:
    """Documents as the mapper reads them from the store: clauses and aspects of the analysis."""
    views = []
    for begin in range(0, len(texts), batch):
        chunk = texts[begin:begin + batch]
        for offset, (text, result) in enumerate(zip(chunk, analyzer.analyze(chunk), strict=True)):
            data = result.to_dict()
            clauses = [ClauseView(c["text"], c["start"], c["end"], c["label"]) for c in data["clauses"]]
            views.append(DocView(str(begin + offset), text, "bench", None, data["label"], None, None, clauses,
                                 data["aspects"]))
    return views


def decisions(benchmark: Benchmark, mappings: Sequence[DocumentMapping]) -> np.ndarray:
    """(n_documents, n_leaves) bool: which indicators the mapper put each document under."""
    column = {leaf.id: j for j, leaf in enumerate(benchmark.leaves)}
    out = np.zeros((len(mappings), len(benchmark.leaves)), dtype=bool)
    for i, mapping in enumerate(mappings):
        for mention in mapping.mentions:
            if mention.indicator_id in column:
                out[i, column[mention.indicator_id]] = True
    return out


def evidence(benchmark: Benchmark, mapper: Mapper, views: Sequence[DocView]) -> tuple[np.ndarray, np.ndarray]:
    """(term hit, aspect hit) per document and leaf, from the mapper without examples."""
    column = {leaf.id: j for j, leaf in enumerate(benchmark.leaves)}
    term = np.zeros((len(views), len(benchmark.leaves)), dtype=bool)
    aspect = np.zeros_like(term)
    for i, mapping in enumerate(mapper.map_many(list(views))):
        for mention in mapping.mentions:
            j = column.get(mention.indicator_id)
            if j is not None:
                term[i, j] |= mention.via in TERM_VIAS
                aspect[i, j] |= mention.via == "aspect"
    return term, aspect


def scores(predicted: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Micro precision / recall / F1 over (document, indicator) pairs, macro-F1 and macro recall over indicators."""
    tp = float((predicted & gold).sum())
    precision = tp / max(1.0, float(predicted.sum()))
    recall = tp / max(1.0, float(gold.sum()))
    per_f1, per_recall = [], []
    for j in range(gold.shape[1]):
        if gold[:, j].any():
            hit = float((predicted[:, j] & gold[:, j]).sum())
            per_f1.append(2 * hit / max(1.0, float(predicted[:, j].sum() + gold[:, j].sum())))
            per_recall.append(hit / float(gold[:, j].sum()))
    return {"precision": round(precision, 4), "recall": round(recall, 4),
            "f1": round(2 * precision * recall / max(1e-9, precision + recall), 4),
            "macro_f1": round(float(np.mean(per_f1)), 4), "macro_recall": round(float(np.mean(per_recall)), 4)}
