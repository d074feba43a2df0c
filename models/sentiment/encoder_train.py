"""Fine-tuning the fetched encoder for sentiment (and emotion) — ``voc models train sentiment --base``.

One encoder, two heads on the [CLS] vector: polarity (negative / neutral / positive) and emotion
(``corpora.EMOTIONS``; trained only on rows that carry an emotion label). The loop is
``models.encoder_loop`` (AdamW, linear warm-up and decay, length-sorted batches shuffled as wholes, a
checkpoint every ``checkpoint_every`` steps resumed when started again, so a cut-off run loses
minutes). The result is exported to ONNX and quantised to int8 (``voc.encoder.export``) for
inference without torch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.encoder_loop import LoopConfig, length_sorted_batches, prepare, run_loop, save_model
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
    from transformers import AutoTokenizer

    config = config or EncoderTrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "model.pt").is_file():
        return out
    loop = LoopConfig(config.learning_rate, config.weight_decay, config.warmup_ratio, config.checkpoint_every,
                      config.seed, config.threads, config.freeze_word_embeddings)
    prepare(loop)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = build_model(base_dir)
    if config.init_from:
        model.load_state_dict(torch.load(Path(config.init_from) / "model.pt", weights_only=True))
    polarity = [POLARITIES.index(label) for label in data.labels]
    emotion = [EMOTIONS.index(e) if e else -100 for e in data.emotions]
    sample_weight = weights or [1.0] * len(data.texts)
    plan = length_sorted_batches([len(t) for t in data.texts], config.batch_size, config.epochs, config.seed)
    pol_loss = torch.nn.CrossEntropyLoss(reduction="none")
    emo_loss = torch.nn.CrossEntropyLoss(ignore_index=-100)

    def batch_loss(batch: list[int]) -> Any:
        enc = tokenizer([data.texts[i] for i in batch], padding=True, truncation=True,
                        max_length=config.max_length, return_tensors="pt")
        pol_logits, emo_logits = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        w = torch.tensor([sample_weight[i] for i in batch])
        loss = (pol_loss(pol_logits, torch.tensor([polarity[i] for i in batch])) * w).sum() / w.sum()
        emo_targets = torch.tensor([emotion[i] for i in batch])
        if bool((emo_targets >= 0).any()):
            loss = loss + config.emotion_weight * emo_loss(emo_logits, emo_targets)
        return loss

    result = run_loop(model, plan, batch_loss, out, loop, progress)
    tokenizer.save_pretrained(out)
    info = {
        "base": str(base_dir),
        "polarities": list(POLARITIES),
        "emotions": list(EMOTIONS),
        "n_train": len(data.texts),
        "steps": result.steps,
        "train_seconds": round(result.seconds, 1),
        "first_loss": result.losses[0] if result.losses else None,
        "last_loss": sum(result.losses[-20:]) / max(1, len(result.losses[-20:])),
        "config": asdict(config),
    }
    (out / "training.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    save_model(model, out)
    return out
