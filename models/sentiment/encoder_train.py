"""Fine-tuning the fetched encoder for sentiment (and emotion) — ``voc models train sentiment --base``.

One encoder, two heads on the [CLS] vector: polarity (negative / neutral / positive) and emotion
(``corpora.EMOTIONS``; trained only on rows that carry an emotion label). A plain torch loop (AdamW,
linear warm-up and decay, length-sorted batches shuffled as wholes) that checkpoints every
``checkpoint_every`` steps and resumes from the checkpoint when started again, so a cut-off run loses
minutes. The result is exported to ONNX and quantised to int8 (``voc.encoder.export``) for inference
without torch.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.sentiment.corpora import EMOTIONS, DomainData

POLARITIES = ("negative", "neutral", "positive")


@dataclass(slots=True)
class EncoderTrainConfig:
    epochs: int = 1
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 128
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    emotion_weight: float = 0.5
    seed: int = 0
    checkpoint_every: int = 50
    threads: int = 0  # 0: torch's default
    # The 21,128 × 512 word embeddings are 46% of the weights: frozen, each CPU step skips their dense
    # Adam update, and words unseen in training keep their pretrained place next to the seen ones.
    freeze_word_embeddings: bool = True
    # continue from an earlier run's model.pt (both heads included) instead of the bare base
    init_from: str | None = None


def build_model(base_dir: str | Path) -> Any:
    import torch
    from transformers import BertModel

    class SentimentEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False)
            hidden = self.bert.config.hidden_size
            self.dropout = torch.nn.Dropout(0.1)
            self.polarity = torch.nn.Linear(hidden, len(POLARITIES))
            self.emotion = torch.nn.Linear(hidden, len(EMOTIONS))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any]:
            cls = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state[:, 0]
            cls = self.dropout(cls)
            return self.polarity(cls), self.emotion(cls)

    return SentimentEncoder()


def _batches(data: DomainData, size: int, rng: random.Random) -> list[list[int]]:
    order = sorted(range(len(data.texts)), key=lambda i: len(data.texts[i]))
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


def train_encoder(
    data: DomainData,
    base_dir: str | Path,
    out: str | Path,
    config: EncoderTrainConfig | None = None,
    weights: list[float] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Fine-tune, checkpointing into ``out``; returns ``out`` holding ``model.pt`` and the tokenizer."""
    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    config = config or EncoderTrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "model.pt").is_file():
        return out
    if config.threads:
        torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = build_model(base_dir)
    if config.init_from:
        model.load_state_dict(torch.load(Path(config.init_from) / "model.pt", weights_only=True))
    if config.freeze_word_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    polarity = [POLARITIES.index(label) for label in data.labels]
    emotion = [EMOTIONS.index(e) if e else -100 for e in data.emotions]
    sample_weight = weights or [1.0] * len(data.texts)
    plan = [b for _ in range(config.epochs) for b in _batches(data, config.batch_size, rng)]
    steps = max(1, len(plan))
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if not n.endswith("bias") and "LayerNorm" not in n]
    no_decay = [p for n, p in trainable if n.endswith("bias") or "LayerNorm" in n]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
    )
    scheduler = get_linear_schedule_with_warmup(optimizer, int(steps * config.warmup_ratio), steps)
    step, losses, seconds = 0, [], 0.0
    checkpoint = out / "checkpoint.pt"
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, losses, seconds = state["step"], state["losses"], state["seconds"]
    model.train()
    started = time.perf_counter() - seconds
    pol_loss = torch.nn.CrossEntropyLoss(reduction="none")
    emo_loss = torch.nn.CrossEntropyLoss(ignore_index=-100)
    while step < steps:
        batch = plan[step]
        enc = tokenizer(
            [data.texts[i] for i in batch],
            padding=True,
            truncation=True,
            max_length=config.max_length,
            return_tensors="pt",
        )
        pol_logits, emo_logits = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        w = torch.tensor([sample_weight[i] for i in batch])
        loss = (pol_loss(pol_logits, torch.tensor([polarity[i] for i in batch])) * w).sum() / w.sum()
        emo_targets = torch.tensor([emotion[i] for i in batch])
        if bool((emo_targets >= 0).any()):
            loss = loss + config.emotion_weight * emo_loss(emo_logits, emo_targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        step += 1
        if progress:
            progress(step, steps, losses[-1])
        if step % config.checkpoint_every == 0 and step < steps:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "step": step,
                "losses": losses,
                "seconds": time.perf_counter() - started,
            }
            torch.save(state, out / "checkpoint.tmp")
            (out / "checkpoint.tmp").replace(checkpoint)
    model.eval()
    tokenizer.save_pretrained(out)
    info = {
        "base": str(base_dir),
        "polarities": list(POLARITIES),
        "emotions": list(EMOTIONS),
        "n_train": len(data.texts),
        "steps": steps,
        "train_seconds": round(time.perf_counter() - started, 1),
        "first_loss": losses[0] if losses else None,
        "last_loss": sum(losses[-20:]) / max(1, len(losses[-20:])),
        "config": asdict(config),
    }
    (out / "training.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    torch.save(model.state_dict(), out / "model.tmp")
    (out / "model.tmp").replace(out / "model.pt")
    checkpoint.unlink(missing_ok=True)
    return out
