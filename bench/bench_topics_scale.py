"""Topic builds at scale: a sampled fit with an approximate k-NN graph, then every document assigned.

Two parts, one run each (``--part nmi``, ``--part scale`` or both):

* **nmi** — on the labelled bench sets of ``bench_topics.py`` (online_shopping 20k, seed 0; the 9,210
  tipdm complaints), the exact build (every document fitted, exact k-NN graph) against the approximate
  graph alone and against sampled builds (``--fractions``: the fit sees that share of the documents,
  the rest is assigned by the fitted model in batches) with the approximate graph. NMI counts outliers
  as one more cluster, as in bench_topics. The sets carry no time, source or industry: one stratum.
* **scale** — ``--n`` documents (default 1,000,000) drawn with replacement from the public review
  (online_shopping_10_cats, waimai_10k, ChnSentiCorp hotels), complaint (tipdm) and Weibo (smp2020
  usual, nlpcc2013) sets, each copy lightly perturbed at the token level (a token dropped, two swapped,
  punctuation or a number inserted), with a month, source and industry per document. The unique texts
  are tokenised once with voc's tokenizer before the clock starts: in a store the tokens are already
  there (ingest made them). Timed: the stratified sample, the fit on it and the assignment of every
  document in batches of ``VOC_TOPIC_ASSIGN_BATCH`` (tokens split per batch, as the store path does).
  Not timed: reading from and writing to the store, the search index. Peak RSS is the process's,
  corpus included; the build's own share is the peak minus the RSS before it. NMI on the documents
  drawn from online_shopping (label = cat) and tipdm (label = label_level1) is reported as a sanity check.

    nice -n 10 .venv/bin/python bench/bench_topics_scale.py --part scale --n 200000
    nice -n 10 .venv/bin/python bench/bench_topics_scale.py --part nmi
    nice -n 10 .venv/bin/python bench/bench_topics_scale.py --part scale --n 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import resource
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

# run as a script, bench/ is on the path: the labelled sets are bench_topics' own
from bench_topics import DATA, _csv, online_shopping, tipdm
from sklearn.metrics import normalized_mutual_info_score

from voc.settings import VocSettings
from voc.topics.evaluate import prepare
from voc.topics.reduction import _exact_neighbours, _ivf_neighbours
from voc.topics.sampling import assign_batches, stratified_sample, stratum_key
from voc.topics.service import build_model

PUNCTUATION = ["，", "。", "！", "？", "~", "...", "!!", "、"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def sampled_build(tokens: list[list[str]] | None, joined: list[str] | None, texts: list[str], keys: list[str],
                  settings: VocSettings, sample: int | None) -> tuple[np.ndarray, dict[str, Any]]:
    """The service's build path on in-memory documents: sample, fit, assign every document in batches.
    Documents are ``tokens`` (lists) or ``joined`` (space-joined, as the store keeps them)."""
    def doc_tokens(i: int) -> list[str]:
        return tokens[i] if tokens is not None else joined[i].split()  # type: ignore[index]

    n_docs = len(texts)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    fitted = (stratified_sample(keys, sample, min_per_stratum=settings.topic_sample_min_per_stratum,
                                seed=settings.topic_sample_seed) if sample else np.arange(n_docs))
    timings["sample"] = round(time.perf_counter() - started, 2)
    model = build_model(settings, lambda word: None)
    clock = time.perf_counter()
    fit = model.fit([doc_tokens(i) for i in fitted], [texts[i] for i in fitted])
    timings["fit"] = round(time.perf_counter() - clock, 2)
    timings.update({f"fit.{step}": seconds for step, seconds in fit.timings.items()})
    clock = time.perf_counter()
    labels = np.full(n_docs, -1, dtype=np.int64)
    batch = settings.topic_assign_batch

    def batches():  # tokens of a fitted document are not needed (the fit labelled it)
        fitted_mask = np.zeros(n_docs, dtype=bool)
        fitted_mask[fitted] = True
        for start in range(0, n_docs, batch):
            positions = np.arange(start, min(start + batch, n_docs))
            yield (positions, [[] if fitted_mask[i] else doc_tokens(i) for i in positions],
                   [texts[i] for i in positions])

    for positions, found in assign_batches(model, batches(), fitted, fit.labels, n_docs):
        labels[positions] = found
    timings["assign"] = round(time.perf_counter() - clock, 2)
    timings["total"] = round(time.perf_counter() - started, 2)
    return labels, {"n": n_docs, "n_fitted": int(fitted.size), "n_topics": len(fit.topics),
                    "outlier_share": round(float((labels < 0).mean()), 4), "timings": timings}


# -- part nmi ---------------------------------------------------------------------------------------

def part_nmi(fractions: list[float], recall_n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, loader in (("online_shopping_20k", online_shopping), ("tipdm_labelled", tipdm)):
        texts, truth = loader()
        normalised, tokens, _ = prepare(texts, VocSettings())
        keys = [""] * len(texts)
        runs: dict[str, Any] = {}
        exact = VocSettings(topic_ann_min_docs=10**9)
        approximate = VocSettings(topic_ann_min_docs=2)
        plans = [("exact", exact, None), ("approximate_graph", approximate, None)]
        plans += [(f"sample_{fraction:g}+approximate", approximate, round(fraction * len(texts)))
                  for fraction in fractions]
        for key, settings, sample in plans:
            labels, info = sampled_build(tokens, None, normalised, keys, settings, sample)
            info["nmi"] = round(float(normalized_mutual_info_score(truth, labels)), 4)
            runs[key] = info
            print(name, key, json.dumps(info), flush=True)
        for key in runs:
            runs[key]["nmi_minus_exact"] = round(runs[key]["nmi"] - runs["exact"]["nmi"], 4)
        if recall_n:
            runs["knn_recall"] = knn_recall(tokens[:recall_n], normalised[:recall_n])
            print(name, "knn_recall", runs["knn_recall"], flush=True)
        out[name] = runs
    return out


def knn_recall(tokens: list[list[str]], texts: list[str]) -> dict[str, Any]:
    """Recall@15 of the IVF graph against the exact one, on the default embedding of these documents."""
    from voc.topics.embedding import make_embedder

    vectors = make_embedder(VocSettings().topic_embedding).fit_transform(tokens, texts)
    started = time.perf_counter()
    exact, _ = _exact_neighbours(vectors, 15)
    exact_s = time.perf_counter() - started
    started = time.perf_counter()
    approx, _ = _ivf_neighbours(vectors, 15, 0, VocSettings().worker_count)
    ivf_s = time.perf_counter() - started
    recall = np.mean([np.intersect1d(a, e).size / 15 for a, e in zip(approx, exact, strict=True)])
    return {"n": len(texts), "recall_at_15": round(float(recall), 4), "exact_s": round(exact_s, 1),
            "ivf_s": round(ivf_s, 1)}


# -- part scale -------------------------------------------------------------------------------------

def sources() -> list[tuple[str, str, str, str | None]]:
    """(text, source, industry, label) of every public set the corpus is drawn from."""
    rows: list[tuple[str, str, str, str | None]] = []
    for row in _csv(DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv"):
        rows.append((row["review"], "review", "ecommerce", "shop:" + row["cat"]))
    rows += [(r["review"], "review", "delivery", None) for r in _csv(DATA / "waimai_10k" / "waimai_10k.csv")]
    rows += [(r["review"], "review", "hotel", None)
             for r in _csv(DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv")]
    texts, labels = tipdm()
    rows += [(text, "complaint", "government", "gov:" + label) for text, label in zip(texts, labels, strict=True)]
    rows += [(r["content"], "social", "weibo", None)
             for r in _csv(DATA / "smp2020_ewect" / "usual_train_modified.csv")]
    rows += [(r["text"], "social", "weibo", None)
             for r in _csv(DATA / "nlpcc2013_weibo_emotion_sentences" / "nlpcc2013_sentences.csv")]
    return [row for row in rows if row[0] and row[0].strip()]


def perturb(tokens: list[str], rng: random.Random) -> list[str]:
    """A light edit so copies are not identical: drop a token, swap two, add punctuation or a number."""
    tokens = list(tokens)
    if len(tokens) > 3 and rng.random() < 0.5:
        del tokens[rng.randrange(len(tokens))]
    if len(tokens) > 3 and rng.random() < 0.5:
        i = rng.randrange(len(tokens) - 1)
        tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    if rng.random() < 0.5:
        tokens.insert(rng.randrange(len(tokens) + 1), rng.choice(PUNCTUATION))
    if rng.random() < 0.3:
        tokens.insert(rng.randrange(len(tokens) + 1), str(rng.randrange(1, 500)))
    return tokens


def make_corpus(n_docs: int, seed: int = 0, cache: Path | None = None
                ) -> tuple[list[str], list[str], list[str], list[str | None]]:
    """Space-joined tokens, texts, stratum keys and labels (or None) of ``n_docs`` perturbed copies.
    ``cache``: a pickle of the tokenised public sets, written once (outside the repository)."""
    if cache is not None and cache.is_file():
        with cache.open("rb") as handle:
            base, tokens = pickle.load(handle)
    else:
        base = sources()
        _, tokens, _ = prepare([row[0] for row in base], VocSettings())
        if cache is not None:
            with cache.open("wb") as handle:
                pickle.dump((base, tokens), handle)
    rng = random.Random(seed)
    joined, texts, keys, labels = [], [], [], []
    for _ in range(n_docs):
        i = rng.randrange(len(base))
        words = perturb(tokens[i], rng)
        joined.append(" ".join(words))
        texts.append("".join(words))
        keys.append(stratum_key(datetime(2026, rng.randrange(12) + 1, 1), base[i][1], base[i][2]))
        labels.append(base[i][3])
    return joined, texts, keys, labels


def part_scale(n_docs: int, sample: int | None, cache: Path | None) -> dict[str, Any]:
    started = time.perf_counter()
    joined, texts, keys, truth = make_corpus(n_docs, cache=cache)
    prepare_s = time.perf_counter() - started
    settings = VocSettings()
    sample = sample or (settings.topic_sample_size if n_docs > settings.topic_sample_threshold else None)
    before_mb = rss_mb()
    print(f"corpus of {n_docs} in {prepare_s:.0f} s, rss {before_mb:.0f} MB; building", flush=True)
    labels, info = sampled_build(None, joined, texts, keys, settings, sample)
    labelled = np.array([label is not None for label in truth])
    info.update({"corpus_s": round(prepare_s, 1), "rss_before_build_mb": round(before_mb),
                 "peak_rss_mb": round(peak_mb()), "n_strata": len(set(keys)),
                 "nmi_labelled_docs": round(float(normalized_mutual_info_score(
                     [t for t in truth if t is not None], labels[labelled])), 4),
                 "n_labelled": int(labelled.sum())})
    print("scale", json.dumps(info), flush=True)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=["nmi", "scale"], help="default: both")
    parser.add_argument("--n", type=int, default=1_000_000, help="documents of the scale part")
    parser.add_argument("--sample", type=int, help="fit sample of the scale part (default: the settings')")
    parser.add_argument("--fractions", default="0.5,0.25", help="sample shares of the nmi part")
    parser.add_argument("--recall-n", type=int, default=20_000, help="documents of the k-NN recall check (0: none)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--cache", type=Path, help="pickle of the tokenised public sets (made on the first run)")
    args = parser.parse_args()
    parts = args.part or ["nmi", "scale"]
    result: dict[str, Any] = {"cpu_count": os.cpu_count(), "load_average_start": os.getloadavg()}
    if "nmi" in parts:
        result["nmi"] = part_nmi([float(f) for f in args.fractions.split(",") if f], args.recall_n)
    if "scale" in parts:
        result["scale"] = part_scale(args.n, args.sample, args.cache)
    result["load_average_end"] = os.getloadavg()
    suffix = "_".join(parts) + (f"_{args.n}" if "scale" in parts else "")
    out = args.out or Path("bench/results") / f"topics_scale_{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print("written", out)


if __name__ == "__main__":
    main()
