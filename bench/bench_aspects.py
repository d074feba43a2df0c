"""Aspect and opinion span extraction on held-out parts of the public span sets.

Sets (``models.aspects.corpora``): zhijiang cosmetics (80/20 by text, seed 0), ccf2021 bank (80/20),
diaasq phone threads (its own test file), absa atepc (its own test files). Every tagger here trained
on the train parts only. Scores per set and kind: precision, recall and F1, exact (same start and
end) and overlap (a predicted span counts when it overlaps a gold span of its kind, a gold span
when some prediction overlaps it). atepc labels no opinions, so its opinion row is left out.

Where a tagger gives span polarity (the encoder does), its accuracy on exactly matched spans whose
polarity the set gives is reported too (``polarity_accuracy``, ``polarity_n``).

Systems, in the same run: ``lexicon`` (today's extractor: aspect terms of the CX lexicon, opinion
words of the sentiment lexicon, ``voc.sentiment.aspects``), ``crf`` (the shipped no-torch tagger,
``models/aspects/crf``, or ``--crf DIR``), ``encoder`` (the fine-tuned int8 ONNX tagger,
``--encoder DIR``; skipped when absent).

Speed (``--speed``): full analysis (sentiment, clauses, aspects: ``Analyzer.analyze``) in documents per
CPU-second, one thread, best of 3 rounds, on 1,000 short reviews (waimai_10k test split, seed 0),
for each tagger under the linear sentiment model and under the default cascade (linear + encoder).

    python bench/bench_aspects.py [--crf DIR] [--encoder DIR] [--speed] [--out bench/results/aspects_spans.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # per-core figures: one thread everywhere
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
    polarity_right = polarity_total = 0
    for example, spans in zip(examples, predicted, strict=True):
        gold = example.of_kind(kind)
        gold_polarity = {(s.start, s.end): s.polarity for s in example.spans if s.kind == kind and s.polarity}
        for span in spans:
            if span.kind == kind and span.polarity and (span.start, span.end) in gold_polarity:
                polarity_total += 1
                polarity_right += span.polarity == gold_polarity[(span.start, span.end)]
        pred = {(s.start, s.end) for s in spans if s.kind == kind}
        exact = len(gold & pred)
        counts["exact"] = [counts["exact"][0] + exact, counts["exact"][1] + len(pred),
                           counts["exact"][2] + exact, counts["exact"][3] + len(gold)]
        pred_hit = sum(any(ps < ge and gs < pe for gs, ge in gold) for ps, pe in pred)
        gold_hit = sum(any(ps < ge and gs < pe for ps, pe in pred) for gs, ge in gold)
        overlap = counts["overlap"]
        counts["overlap"] = [overlap[0] + pred_hit, overlap[1] + len(pred), overlap[2] + gold_hit,
                             overlap[3] + len(gold)]
    polarity = {"polarity_accuracy": round(polarity_right / polarity_total, 4), "polarity_n": polarity_total} \
        if polarity_total else {}
    return {match: _prf(*values) for match, values in counts.items()} | {"gold": counts["exact"][3]} | polarity


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


def analysis_speed(taggers: dict[str, Path | None]) -> dict[str, float]:
    """Docs per CPU-second of full analysis for each (sentiment model, tagger) pair."""
    from models.sentiment.corpora import load_domain
    from models.sentiment.mixture import sample, split_domain
    from voc.sentiment.analyzer import Analyzer
    from voc.sentiment.backends import default_model_path

    texts = sample(split_domain(load_domain("waimai_10k")).test, 1000).texts
    out: dict[str, float] = {}
    for model in ("linear", "cascade"):
        for name, directory in taggers.items():
            analyzer = Analyzer(str(default_model_path()) if model == "linear" else "cascade",
                                default_model_path() / "aspect", tagger_path=directory)
            analyzer.analyze(texts[:20])
            best = 0.0
            for _ in range(3):
                started = time.process_time()
                analyzer.analyze(texts)
                best = max(best, len(texts) / max(1e-9, time.process_time() - started))
            out[f"{model}+{name}"] = round(best, 1)
            print(f"full analysis {model:7s} + {name:8s} {best:8.1f} docs per CPU-second", flush=True)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    from voc.aspects import load_tagger_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crf", type=Path, default=ROOT.parent / "models" / "aspects" / "crf")
    parser.add_argument("--encoder", type=Path, default=ROOT.parent / "models" / "aspects" / "encoder")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "aspects_spans.json")
    parser.add_argument("--speed", action="store_true", help="full-analysis speed instead of span F1")
    args = parser.parse_args(argv)
    if args.speed:
        chosen = {"lexicon": None} | {name: d for name, d in (("crf", args.crf), ("encoder", args.encoder))
                                      if d.is_dir()}
        speed = analysis_speed(chosen)
        args.out.with_name("aspects_speed.json").write_text(json.dumps(speed, indent=1), encoding="utf-8")
        return
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
