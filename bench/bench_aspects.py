"""Aspect and opinion span extraction on held-out parts of the public span sets.

Sets (``models.aspects.corpora``): zhijiang cosmetics (80/20 by text, seed 0), ccf2021 bank (80/20),
diaasq phone threads (its own test file), absa atepc (its own test files). Every tagger here trained
on the train parts only. Scores per set and kind: precision, recall and F1, exact (same start and
end) and overlap (a predicted span counts when it overlaps a gold span of its kind, a gold span
when some prediction overlaps it). atepc labels no opinions, so its opinion row is left out.

Systems, in the same run: ``lexicon`` (today's extractor: aspect terms of the CX lexicon, opinion
words of the sentiment lexicon, ``voc.sentiment.aspects``), ``crf`` (the shipped no-torch tagger,
``models/aspects/crf``, or ``--crf DIR``), ``encoder`` (the fine-tuned int8 ONNX tagger,
``--encoder DIR``; skipped when absent).

    python bench/bench_aspects.py [--crf DIR] [--encoder DIR] [--out bench/results/aspects_spans.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.aspects.corpora import SPAN_SETS, SpanExample, span_splits
from voc.aspects.types import TaggedSpan
from voc.sentiment import lexicon as lx
from voc.sentiment.aspects import ASPECT_RE

ROOT = Path(__file__).resolve().parent
KIND_LABELLED = {"atepc": ("aspect",)}


class LexiconTagger:
    """Today's extractor as a tagger: CX aspect terms and sentiment-lexicon opinion words."""

    name = "lexicon"

    def tag(self, texts: Sequence[str]) -> list[list[TaggedSpan]]:
        return [sorted([TaggedSpan(*m.span(), "aspect") for m in ASPECT_RE.finditer(text)]
                       + [TaggedSpan(s, e, "opinion") for s, e, _ in lx.lexicon_hits(text)],
                       key=lambda s: (s.start, s.end)) for text in texts]


def _prf(hit_pred: int, n_pred: int, hit_gold: int, n_gold: int) -> dict[str, float]:
    precision = hit_pred / n_pred if n_pred else 0.0
    recall = hit_gold / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score(examples: Sequence[SpanExample], predicted: Sequence[Sequence[TaggedSpan]], kind: str) -> dict[str, Any]:
    counts = {"exact": [0, 0, 0, 0], "overlap": [0, 0, 0, 0]}
    for example, spans in zip(examples, predicted, strict=True):
        gold = example.of_kind(kind)
        pred = {(s.start, s.end) for s in spans if s.kind == kind}
        exact = len(gold & pred)
        counts["exact"] = [counts["exact"][0] + exact, counts["exact"][1] + len(pred),
                           counts["exact"][2] + exact, counts["exact"][3] + len(gold)]
        pred_hit = sum(any(ps < ge and gs < pe for gs, ge in gold) for ps, pe in pred)
        gold_hit = sum(any(ps < ge and gs < pe for ps, pe in pred) for gs, ge in gold)
        overlap = counts["overlap"]
        counts["overlap"] = [overlap[0] + pred_hit, overlap[1] + len(pred), overlap[2] + gold_hit,
                             overlap[3] + len(gold)]
    return {match: _prf(*values) for match, values in counts.items()} | {"gold": counts["exact"][3]}


def run(taggers: Sequence[Any]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name in SPAN_SETS:
        _, test = span_splits(name)
        results[name] = {"n_test": len(test)}
        for tagger in taggers:
            started = time.perf_counter()
            predicted = tagger.tag([e.text for e in test])
            seconds = time.perf_counter() - started
            kinds = KIND_LABELLED.get(name, ("aspect", "opinion"))
            results[name][tagger.name] = {kind: score(test, predicted, kind) for kind in kinds}
            results[name][tagger.name]["docs_per_s"] = round(len(test) / seconds, 1)
            summary = "  ".join(f"{kind} F1 {results[name][tagger.name][kind]['exact']['f1']:.3f}/"
                                f"{results[name][tagger.name][kind]['overlap']['f1']:.3f}" for kind in kinds)
            print(f"{name:10s} {tagger.name:8s} {summary}  (exact/overlap)", flush=True)
    systems = [t.name for t in taggers]
    results["mean"] = {system: {kind: {match: round(sum(results[n][system][kind][match]["f1"] for n in SPAN_SETS
                                                         if kind in results[n][system]) /
                                                     sum(1 for n in SPAN_SETS if kind in results[n][system]), 4)
                                       for match in ("exact", "overlap")} for kind in ("aspect", "opinion")}
                       for system in systems}
    return results


def main(argv: Sequence[str] | None = None) -> None:
    from voc.aspects import load_tagger_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crf", type=Path, default=ROOT.parent / "models" / "aspects" / "crf")
    parser.add_argument("--encoder", type=Path, default=ROOT.parent / "models" / "aspects" / "encoder")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "aspects_spans.json")
    args = parser.parse_args(argv)
    taggers: list[Any] = [LexiconTagger()]
    for directory in (args.crf, args.encoder):
        if directory.is_dir():
            taggers.append(load_tagger_dir(directory))
        else:
            print(f"skipped: no tagger at {directory}")
    results = run(taggers)
    print(json.dumps(results["mean"], indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
