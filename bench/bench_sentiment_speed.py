"""Sentiment speed per core: linear, encoder (fp32, int8), cascade; and memory per API worker.

Documents per CPU-second, one thread everywhere (OMP/ONNX intra-op threads = 1), best of 3 rounds
(other processes share the machine), on two text kinds: short reviews (waimai_10k test split) and
300-character texts (hotel and e-commerce reviews of at least 300 characters, cut to 300). Each
backend runs bare (``predict_proba``, no clauses or rules). The cascade runs at the shipped
thresholds; its encoder share is reported with it. Memory: peak RSS of a fresh process that opens
the service (``Voc``) with the default model and analyses 2,000 texts through ``Voc.analyze``.

    python bench/bench_sentiment_speed.py [--fp32 EXPORT_DIR_WITH_FP32] [--out bench/results/sentiment_speed.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # per-core figures: one thread everywhere
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from models.sentiment.corpora import load_domain
from models.sentiment.mixture import sample, split_domain
from voc.encoder.runtime import EncoderSentimentModel
from voc.sentiment.backends import default_encoder_path, default_model_path
from voc.sentiment.cascade import CascadeBackend
from voc.sentiment.linear import LinearSentimentModel

MEMORY_SCRIPT = """
import resource, sys, tempfile
from pathlib import Path
from voc.service import Voc
from voc.settings import VocSettings
texts = [line for line in sys.stdin.read().split("\\n") if line]
service = Voc(VocSettings(home=Path(tempfile.mkdtemp())))
for text in texts:
    service.analyze(text)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def text_sets() -> dict[str, list[str]]:
    short = sample(split_domain(load_domain("waimai_10k")).test, 1000).texts
    long_texts = [t for name in ("chnsenticorp_htl_all", "online_shopping_10_cats")
                  for t in load_domain(name).texts if len(t) >= 300]
    rng = np.random.default_rng(0)
    chosen = rng.choice(len(long_texts), size=min(300, len(long_texts)), replace=False)
    return {"short_reviews": short, "300_chars": [long_texts[i][:300] for i in chosen]}


def docs_per_cpu_s(backend: Any, texts: list[str], rounds: int = 3) -> float:
    backend.predict_proba(texts[:20])  # warm up
    best = 0.0
    for _ in range(rounds):
        t0 = time.process_time()
        backend.predict_proba(texts)
        best = max(best, len(texts) / (time.process_time() - t0))
    return round(best, 1)


def worker_memory(texts: list[str]) -> int:
    proc = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], input="\n".join(texts), capture_output=True,
                          text=True, check=True)
    return int(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fp32", type=Path, help="an export directory that also holds model.fp32.onnx")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    linear = LinearSentimentModel.load(default_model_path())
    int8 = EncoderSentimentModel(default_encoder_path(), threads=1)
    cascade = CascadeBackend(linear, int8)
    backends: dict[str, Any] = {"linear": linear, "encoder_int8": int8, "cascade": cascade}
    if args.fp32:
        fp32 = EncoderSentimentModel(args.fp32, threads=1)
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        fp32.session = ort.InferenceSession(str(args.fp32 / "model.fp32.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        fp32.batch_size = 32  # fp32 results do not depend on the batch
        backends["encoder_fp32"] = fp32
    sets = text_sets()
    report: dict[str, Any] = {"conditions": "docs per CPU-second, 1 thread, best of 3", "docs_per_cpu_s": {}}
    for set_name, texts in sets.items():
        row = {name: docs_per_cpu_s(backend, texts) for name, backend in backends.items()}
        proba = linear.predict_proba(texts)
        row["cascade_encoder_share"] = round(float(np.mean(~cascade.linear_is_sure(proba))), 3)
        report["docs_per_cpu_s"][set_name] = {"n": len(texts), **row}
        print(set_name, row, file=sys.stderr, flush=True)
    rss = worker_memory(sets["short_reviews"] * 2)
    report["api_worker_peak_rss_mb"] = round(rss / 2**20, 1)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
