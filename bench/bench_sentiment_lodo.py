"""Leave-one-domain-out sentiment benchmark: the cascade vs TF-IDF + LR, trained the same way.

For each of six domains (food delivery, hotel, e-commerce, Weibo posts, bank, Weibo sentences) every
system trains on the others' 80% parts plus the auxiliary sets (stock forum, cosmetics clauses,
customer-service enquiries; n-gram systems: at most 1,000 rows of each, all rows of the domains) and
is tested on the held-out domain's 20% part (seed-0 stratified split; at most ``--test-cap`` rows,
stratified sample, seed 0). Test texts of every domain leave all training parts (normalised
comparison, ``data.text_key``); holding out the hotel domain also removes online_shopping's 酒店
category. Score: macro-F1 over the classes the domain has (binary domains: negative vs positive).

Systems: ``tfidf_lr`` (char 1–3-gram TF-IDF, multinomial logistic regression — the anchor, on the
texts as they are); ``linear`` (voc's NB-weighted char-n-gram model); ``encoder`` (the fine-tuned
encoder trained for this held-out domain by ``python -m models.sentiment.train_plan`` and exported
to int8 ONNX; it trains on a capped sample of the same parts, see each model's ``mixture.json``);
``cascade`` (linear where confident, encoder otherwise) at the shipped thresholds, plus a threshold
sweep. All but the anchor run through voc's Analyzer (clauses, contrast); ``+rules`` adds the
hard-case rules.

    python bench/bench_sentiment_lodo.py --encoders WORKDIR [--out bench/results/sentiment_lodo.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from models.sentiment.corpora import TEST_DOMAINS, DomainData
from models.sentiment.data import LabelledData
from models.sentiment.linear_train import train_linear
from models.sentiment.mixture import benchmark_splits, sample, training_mixture
from models.sentiment.train import decide, score_labels
from voc.encoder.runtime import EncoderSentimentModel
from voc.sentiment.analyzer import Analyzer
from voc.sentiment.cascade import (
    DEFAULT_CONFIDENCE,
    DEFAULT_ENCODER_WEIGHT,
    DEFAULT_NEUTRAL_CEILING,
    CascadeBackend,
)

LABELS = ("negative", "neutral", "positive")
# the n-gram systems train on every row of the training domains but at most this many of each
# auxiliary set, as the shipped encoder does: 127k enquiries would otherwise outweigh all reviews
AUXILIARY_CAP = 1000
SWEEP_CONFIDENCE = (0.8, 0.9, 0.95, 0.97, 0.99, 1.01)
SWEEP_NEUTRAL = (0.02, 0.05, 0.1, 0.2, 1.0)
SWEEP_WEIGHT = (0.5, 0.7, 1.0)


class TfidfLr:
    """The anchor: char 1–3-gram TF-IDF + multinomial logistic regression over the three classes."""

    has_neutral = True

    def __init__(self, data: DomainData, weights: Sequence[float]) -> None:
        self.vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
        x = self.vectorizer.fit_transform(data.texts)
        self.model = LogisticRegression(C=4.0, max_iter=2000)
        self.model.fit(x, data.labels, sample_weight=np.asarray(weights))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.model.predict_proba(self.vectorizer.transform(list(texts)))
        out = np.zeros((len(texts), 3))
        for column, label in enumerate(self.model.classes_):
            out[:, LABELS.index(label)] = proba[:, column]
        return out


class Memo:
    """Caches a backend's answers per text, so a threshold sweep costs no model calls."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.has_neutral, self.cache = backend, True, {}

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            self.cache.update(zip(todo, self.backend.predict_proba(todo), strict=True))
        return np.array([self.cache[t] for t in texts]).reshape(len(texts), 3)


def _macro_f1(test: LabelledData, proba: np.ndarray) -> float:
    binary = "neutral" not in set(test.labels)
    return score_labels(test.labels, decide(proba, binary))["macro_f1"]


def _accuracy(test: LabelledData, proba: np.ndarray) -> float:
    binary = "neutral" not in set(test.labels)
    return score_labels(test.labels, decide(proba, binary))["accuracy"]


@dataclass
class Systems:
    """The systems of one training set-up, each memoised."""

    anchor: Memo
    linear: Memo
    encoder: Memo
    train_rows: dict[str, int]

    @classmethod
    def train(cls, splits: dict, held_out: str | None, encoder_dir: Path) -> Systems:
        data, weights, counts = training_mixture(splits, held_out, per_domain=10**9, per_auxiliary=AUXILIARY_CAP)
        anchor = Memo(TfidfLr(data, weights))
        linear = Memo(train_linear(LabelledData(data.texts, data.labels)))
        return cls(anchor, linear, Memo(EncoderSentimentModel(encoder_dir)), counts)


def evaluate(trained: Systems, test: DomainData) -> dict[str, Any]:
    linear, encoder = trained.linear, trained.encoder
    row: dict[str, Any] = {"n_test": len(test.texts), "train_rows": trained.train_rows}
    anchor_proba = trained.anchor.predict_proba(test.texts)  # plain, as anchors are
    row["tfidf_lr"] = _macro_f1(test, anchor_proba)
    row["accuracy"] = {"tfidf_lr": _accuracy(test, anchor_proba)}
    for name, backend in (("linear", linear), ("encoder", encoder)):
        for rules in (False, True):
            proba = Analyzer("<bench>", use_rules=rules, backend=backend).document_probabilities(test.texts)
            row[name + ("+rules" if rules else "")] = _macro_f1(test, proba)
            row["accuracy"][name + ("+rules" if rules else "")] = _accuracy(test, proba)
    sweep = {}
    for confidence in SWEEP_CONFIDENCE:
        for ceiling in SWEEP_NEUTRAL:
            for weight in SWEEP_WEIGHT:
                cascade = CascadeBackend(linear, encoder, confidence, ceiling, weight)
                proba = Analyzer("<bench>", use_rules=False, backend=cascade).document_probabilities(test.texts)
                share = float(np.mean(~cascade.linear_is_sure(linear.predict_proba(test.texts))))
                sweep[f"{confidence}/{ceiling}/{weight}"] = {"macro_f1": _macro_f1(test, proba),
                                                             "encoder_share": round(share, 3)}
    row["cascade_sweep"] = sweep
    shipped = CascadeBackend(linear, encoder, DEFAULT_CONFIDENCE, DEFAULT_NEUTRAL_CEILING, DEFAULT_ENCODER_WEIGHT)
    for rules in (False, True):
        proba = Analyzer("<bench>", use_rules=rules, backend=shipped).document_probabilities(test.texts)
        row["cascade" + ("+rules" if rules else "")] = _macro_f1(test, proba)
        row["accuracy"]["cascade" + ("+rules" if rules else "")] = _accuracy(test, proba)
    return row


def evaluate_domain(held_out: str, splits: dict, encoders: Path, test_cap: int) -> dict[str, Any]:
    systems = Systems.train(splits, held_out, encoders / f"lodo-{held_out}" / "export")
    return evaluate(systems, sample(splits[held_out].test, test_cap))


def in_domain(splits: dict, encoder_dir: Path) -> dict[str, Any]:
    """The shipped set-up: every domain's 80% part trains, each full 20% part tests."""
    systems = Systems.train(splits, None, encoder_dir)
    return {name: evaluate(systems, s.test) for name, s in splits.items()}


def emotion(splits: dict, encoder_dir: Path) -> dict[str, Any]:
    """The emotion head on the two sets that carry emotion, vs TF-IDF + LR on the same rows' emotions."""
    data, _, _ = training_mixture(splits, None, per_domain=10**9, per_auxiliary=AUXILIARY_CAP)
    rows = [i for i, e in enumerate(data.emotions) if e]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    anchor = LogisticRegression(C=4.0, max_iter=2000).fit(
        vectorizer.fit_transform([data.texts[i] for i in rows]), [data.emotions[i] for i in rows]
    )
    model = EncoderSentimentModel(encoder_dir)
    out = {}
    for name in ("smp2020_ewect", "nlpcc2013_weibo_emotion_sentences"):
        test = splits[name].test
        keep = [i for i, e in enumerate(test.emotions) if e]
        gold = [test.emotions[i] for i in keep]
        texts = [test.texts[i] for i in keep]
        prediction = model.predict(texts)
        ours = [prediction.emotions[j] for j in prediction.emotion.argmax(axis=1)]
        theirs = list(anchor.predict(vectorizer.transform(texts)))
        out[name] = {"n": len(gold), "encoder": f1_score(gold, ours, average="macro"),
                     "tfidf_lr": f1_score(gold, theirs, average="macro"),
                     "anger_f1": {"encoder": f1_score(gold, ours, labels=["anger"], average="macro"),
                                  "tfidf_lr": f1_score(gold, theirs, labels=["anger"], average="macro")}}
    return out


def summary(results: dict[str, Any]) -> dict[str, Any]:
    systems = ["tfidf_lr", "linear", "linear+rules", "encoder", "encoder+rules", "cascade", "cascade+rules"]
    mean = {s: round(float(np.mean([r[s] for r in results.values()])), 4) for s in systems}
    keys = next(iter(results.values()))["cascade_sweep"].keys()
    sweep_mean = {k: round(float(np.mean([r["cascade_sweep"][k]["macro_f1"] for r in results.values()])), 4)
                  for k in keys}
    best = max(sweep_mean, key=lambda k: sweep_mean[k])
    return {"mean_macro_f1": mean, "sweep_mean": sweep_mean, "best_sweep": best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoders", type=Path, required=True, help="train_plan work directory")
    parser.add_argument("--domains", default=",".join(TEST_DOMAINS))
    parser.add_argument("--test-cap", type=int, default=3000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--in-domain", type=Path, help="exported shipped encoder: score the 80/20 splits instead")
    args = parser.parse_args()
    splits = benchmark_splits()
    if args.in_domain:
        results = in_domain(splits, args.in_domain)
        report = {"protocol": "in-domain: 80% parts of every domain + auxiliary sets train; full 20% parts test",
                  "results": results, "summary": summary(results), "emotion": emotion(splits, args.in_domain)}
        _write(report, args.out)
        return
    results = {}
    for domain in args.domains.split(","):
        results[domain] = evaluate_domain(domain, splits, args.encoders, args.test_cap)
        brief = {k: v for k, v in results[domain].items() if k not in ("cascade_sweep", "train_rows")}
        print(domain, brief, file=sys.stderr, flush=True)
    report = {"protocol": __doc__.split("\n\n")[1], "results": results, "summary": summary(results)}
    _write(report, args.out)


def _write(report: dict[str, Any], out: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report["summary"], indent=2))


if __name__ == "__main__":
    main()
