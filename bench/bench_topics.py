"""Topic benchmark: voc's topic model vs BERTopic with the same embeddings, in one run.

Data (read from ../shared/data, never copied): a 20,000-review sample (seed 0) of
online_shopping_10_cats (label = cat) and the 9,210 labelled tipdm complaint messages
(fujian2_full_labeled_segmented.csv, label = label_level1; the segmentation spaces are removed and the
text re-tokenised). Both systems get the same jieba tokens and the same embeddings (voc's default
embedder, ``VOC_TOPIC_EMBEDDING``, over those tokens); BERTopic keeps its own defaults (UMAP 5-d,
HDBSCAN min_cluster_size 10, c-TF-IDF) with a jieba CountVectorizer. NMI/ARI count outliers as one
more cluster (-1) for both.
label_quality is the share of top-5 topic words that are content words of two or more characters
(``voc.topics.evaluate.is_label_content_word``, applied to both systems alike).

``voc_without_refine`` is the same pipeline with ``VOC_TOPIC_REFINE_ROUNDS=0`` (an ablation of the
refinement step).

Single-domain feedback (ChnSentiCorp hotel reviews, waimai delivery reviews; no labels): how many
topics, and how much of the corpus the largest one holds, with and without the topic size limit.

Peak memory: voc's whole build path (tokenise, embed, reduce, cluster, label) on 100,000 documents
drawn from every labelled review/complaint set, measured as the child process's peak RSS.

Embeddings compared in one run: ``--embedding ppmi-sif --embedding bge-small-zh --embedding ppmi-sif+bge``
(tokenised once per set; the first embedding also runs the ablation and BERTopic). ``--sets`` picks the
corpora; results go to ``bench/results/topics_<embeddings>.json`` with the library versions and core count
(the figures move with the BLAS kernel the CPU gets: see the README's topics section).

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/bench_topics.py [--skip-bertopic]
    .venv/bin/python bench/bench_topics.py --skip-bertopic --skip-ablation --memory-docs 0 \
        --sets online_shopping_20k,tipdm_labelled --embedding ppmi-sif --embedding bge-small-zh
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from voc.settings import VocSettings
from voc.text.tokenize import Tokenizer
from voc.topics.evaluate import prepare, score_topics
from voc.topics.service import build_model

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ANCHOR = {"nmi": 0.32, "ari": 0.20, "outlier_share": 0.20, "seconds": 99}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def online_shopping(sample: int = 20_000) -> tuple[list[str], list[str]]:
    rows = [r for r in _csv(DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv") if r["review"].strip()]
    rows = random.Random(0).sample(rows, sample)
    return [r["review"] for r in rows], [r["cat"] for r in rows]


def tipdm() -> tuple[list[str], list[str]]:
    rows = _csv(DATA / "tipdm2020_gov_complaint_messages" / "fujian2_full_labeled_segmented.csv")
    rows = [r for r in rows if r["segmented_text"].strip() and r["label_level1"].strip()]
    return [r["segmented_text"].replace(" ", "") for r in rows], [r["label_level1"] for r in rows]


def single_domain() -> dict[str, list[str]]:
    """Feedback about one kind of business, where one topic tends to swallow the corpus."""
    hotel = _csv(DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv")
    delivery = _csv(DATA / "waimai_10k" / "waimai_10k.csv")
    return {name: [r["review"] for r in rows if r["review"].strip()]
            for name, rows in (("chnsenticorp_hotel", hotel), ("waimai_delivery", delivery))}


def run_single_domain(name: str, texts: list[str]) -> dict[str, Any]:
    """Topic count and the largest topic's share, with the default size limit and without it (max share 1)."""
    out: dict[str, Any] = {"n": len(texts)}
    for key, settings in (("voc", VocSettings()), ("without_max_share", VocSettings(topic_max_share=1.0))):
        started = time.perf_counter()
        normalised, tokens, tokenizer = prepare(texts, settings)
        fit = build_model(settings, tokenizer.part_of_speech).fit(tokens, normalised)
        sizes = sorted((topic.size for topic in fit.topics), reverse=True)
        out[key] = {"n_topics": len(fit.topics), "largest_share": round(sizes[0] / len(texts), 3) if sizes else 0.0,
                    "outlier_share": round(fit.outlier_share, 4), "seconds": round(time.perf_counter() - started, 1),
                    "labels_by_size": [t.label for t in sorted(fit.topics, key=lambda t: -t.size)][:12]}
        print(name, key, json.dumps(out[key], ensure_ascii=False), flush=True)
    return out


def scores(labels: list[str], predicted: list[int], keywords: list[list[str]], tokenizer: Tokenizer,
           seconds: float) -> dict[str, Any]:
    return {**score_topics(labels, predicted, keywords, tokenizer), "seconds": round(seconds, 1),
            "sample_labels": ["_".join(words[:4]) for words in keywords[:8]]}


def run_set(name: str, texts: list[str], labels: list[str], with_bertopic: bool,
            embeddings: list[str] | None = None, ablation: bool = True) -> dict[str, Any]:
    """voc with each embedding (the first is the one the ablation and BERTopic use); tokenised once."""
    embeddings = embeddings or [VocSettings().topic_embedding]
    started = time.perf_counter()
    normalised, tokens, tokenizer = prepare(texts, VocSettings())
    tokenize_s = time.perf_counter() - started
    result: dict[str, Any] = {"n": len(texts), "tokenize_s": round(tokenize_s, 1)}
    for embedding in embeddings:
        settings = VocSettings(topic_embedding=embedding)
        started = time.perf_counter()
        fit = build_model(settings, tokenizer.part_of_speech).fit(tokens, normalised)
        key = "voc" if embedding == embeddings[0] else f"voc[{embedding}]"
        result[key] = {"embedding": embedding, **scores(labels, fit.labels.tolist(), [t.keywords for t in fit.topics],
                                                          tokenizer, time.perf_counter() - started + tokenize_s),
                       "timings": fit.timings}
        print(name, key, json.dumps(result[key], ensure_ascii=False), flush=True)
    if ablation:
        # The same pipeline without the refinement step (clustering labels as they are).
        unrefined = VocSettings(topic_embedding=embeddings[0], topic_refine_rounds=0)
        started = time.perf_counter()
        fit = build_model(unrefined, tokenizer.part_of_speech).fit(tokens, normalised)
        result["voc_without_refine"] = scores(labels, fit.labels.tolist(), [t.keywords for t in fit.topics],
                                              tokenizer, time.perf_counter() - started + tokenize_s)
        print(name, "voc_without_refine", json.dumps(result["voc_without_refine"], ensure_ascii=False), flush=True)
    if with_bertopic:
        result["bertopic"] = bertopic_run(tokens, normalised, labels, tokenizer, tokenize_s, embeddings[0])
        print(name, "bertopic", json.dumps(result["bertopic"], ensure_ascii=False), flush=True)
    return result


def bertopic_run(tokens: list[list[str]], texts: list[str], labels: list[str], tokenizer: Tokenizer,
                 tokenize_s: float, embedding: str) -> dict[str, Any]:
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    from voc.topics.embedding import make_embedder

    started = time.perf_counter()
    # the same embeddings voc uses (the first --embedding, fitted on the same tokens)
    embeddings = make_embedder(embedding).fit_transform(tokens, texts)
    # BERTopic tokenises documents itself: give it the jieba tokens joined by spaces and split on spaces.
    vectorizer = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    topic_model = BERTopic(vectorizer_model=vectorizer, language="multilingual", calculate_probabilities=False)
    predicted, _ = topic_model.fit_transform([" ".join(t) for t in tokens], embeddings=embeddings)
    seconds = time.perf_counter() - started + tokenize_s
    info = topic_model.get_topics()
    keywords = [[word for word, _ in info[topic]] for topic in sorted(info) if topic >= 0]
    return scores(labels, list(predicted), keywords, tokenizer, seconds)


def memory_child(count: int) -> None:
    sources = [r["review"] for r in _csv(DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv")]
    sources += [r["review"] for r in _csv(DATA / "waimai_10k" / "waimai_10k.csv")]
    sources += [r["review"] for r in _csv(DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv")]
    sources += tipdm()[0]
    rng = random.Random(0)
    texts = [text for text in sources if text and text.strip()]
    texts = [texts[rng.randrange(len(texts))] for _ in range(count)] if count > len(texts) else rng.sample(texts, count)
    settings = VocSettings()
    started = time.perf_counter()
    normalised, tokens, tokenizer = prepare(texts, settings)
    fit = build_model(settings, tokenizer.part_of_speech).fit(tokens, normalised)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"n": count, "n_topics": len(fit.topics), "outlier_share": round(fit.outlier_share, 4),
                      "seconds": round(time.perf_counter() - started, 1), "peak_rss_mb": round(peak_mb),
                      "timings": fit.timings}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-bertopic", action="store_true")
    parser.add_argument("--embedding", action="append", metavar="NAME",
                        help="topic embedding to run (repeatable; default VOC_TOPIC_EMBEDDING), e.g. ppmi-sif, "
                        "bge-small-zh, ppmi-sif+bge; the first one also runs the ablation and BERTopic")
    parser.add_argument("--sets", default="online_shopping_20k,tipdm_labelled,single_domain",
                        help="comma-separated: online_shopping_20k, tipdm_labelled, single_domain")
    parser.add_argument("--skip-ablation", action="store_true", help="no run without the refinement step")
    parser.add_argument("--memory-docs", type=int, default=100_000)
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="default bench/results/topics_<embeddings>.json")
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    embeddings = args.embedding or [VocSettings().topic_embedding]
    sets = {name.strip() for name in args.sets.split(",") if name.strip()}
    out = args.out or Path("bench/results") / f"topics_{'_'.join(e.replace('/', '-') for e in embeddings)}.json"
    results: dict[str, Any] = {"anchor_bertopic_brief": ANCHOR, "embeddings": embeddings,
                               "cpu_count": os.cpu_count(), "versions": versions()}
    for name, loader in (("online_shopping_20k", online_shopping), ("tipdm_labelled", tipdm)):
        if name in sets:
            results[name] = run_set(name, *loader(), not args.skip_bertopic, embeddings, not args.skip_ablation)
    if "single_domain" in sets:
        results["single_domain"] = {name: run_single_domain(name, texts) for name, texts in single_domain().items()}
    if args.memory_docs:
        child = subprocess.run([sys.executable, __file__, "--memory-child", str(args.memory_docs)],
                               capture_output=True, text=True, check=True)
        results["memory"] = json.loads(child.stdout.strip().splitlines()[-1])
        print("memory", results["memory"], flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


def versions() -> dict[str, str]:
    """The libraries whose versions can move the figures."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for package in ("numpy", "scipy", "scikit-learn", "hdbscan", "pyamg", "jieba", "onnxruntime", "tokenizers"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "missing"
    return found


if __name__ == "__main__":
    main()
