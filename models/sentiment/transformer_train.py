"""Fine-tuning a Hugging Face encoder for sentiment (``voc models train sentiment --base NAME_OR_PATH``).

A plain torch loop (AdamW, linear warm-up/decay, length-sorted buckets) instead of ``Trainer``,
so the only dependencies are torch and transformers. The result is saved in the standard format
(``save_pretrained``) and loads with ``voc.sentiment.transformer.TransformerSentimentModel``.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from models.sentiment.data import NEUTRAL, LabelledData


@dataclass(slots=True)
class TransformerConfig:
    epochs: int = 2
    learning_rate: float = 2e-5
    batch_size: int = 32
    max_length: int = 160
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    seed: int = 0
    device: str | None = None


def label_names(data: LabelledData) -> list[str]:
    """Binary data trains a 2-way head (negative, positive); with neutral rows a 3-way head."""
    return ["negative", "positive"] if NEUTRAL not in set(data.labels) else ["negative", "neutral", "positive"]


def train_transformer(data: LabelledData, base: str, out: str | Path, config: TransformerConfig | None = None) -> Path:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    from voc.sentiment.transformer import pick_device

    config = config or TransformerConfig()
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    device = pick_device(config.device)
    names = label_names(data)
    label2id = {name: i for i, name in enumerate(names)}
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id=label2id,
        ignore_mismatched_sizes=True,  # a base with another head (or none) gets a fresh one
    ).to(device)
    targets = [label2id[label] for label in data.labels]
    # length-sorted buckets, shuffled as whole batches: little padding, still random order
    order = sorted(range(len(data.texts)), key=lambda i: len(data.texts[i]))
    batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
    steps = max(1, len(batches) * config.epochs)
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, int(steps * config.warmup_ratio), steps)
    use_amp = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    started = time.perf_counter()
    losses: list[float] = []
    model.train()
    for _ in range(config.epochs):
        random.shuffle(batches)
        for batch in batches:
            enc = tokenizer(
                [data.texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=config.max_length,
                return_tensors="pt",
            ).to(device)
            labels = torch.tensor([targets[i] for i in batch], device=device)
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                loss = model(**enc, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    info = {
        "kind": "transformer",
        "base": base,
        "labels": names,
        "n_train": len(data.texts),
        "train_seconds": round(time.perf_counter() - started, 1),
        "first_loss": losses[0] if losses else None,
        "last_loss": sum(losses[-10:]) / max(1, len(losses[-10:])),
        "config": asdict(config),
    }
    (out / "voc_training.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    return out
