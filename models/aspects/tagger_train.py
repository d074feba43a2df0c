"""Fine-tuning the fetched encoder as an aspect / opinion span tagger.

Three token heads on one encoder: aspect BIO, opinion BIO and polarity (negative / neutral /
positive, trained on the tokens of spans whose polarity the data gives). A set that does not label
a kind trains no head for it: atepc marks aspects only, so its opinion head targets are masked
rather than taught "no opinion here". A plain torch loop with AdamW, warm-up and linear decay,
checkpointing every ``checkpoint_every`` steps and resuming from the checkpoint, so a cut-off run
loses minutes. ``voc.aspects.export`` turns the result into int8 ONNX for inference without torch.

    .venv/bin/python -m models.aspects.tagger_train OUT [--epochs 2] [--threads 1] [--base DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.aspects.corpora import SPAN_SETS, SpanExample, span_splits

BIO = ("O", "B", "I")
POLARITIES = ("negative", "neutral", "positive")
UNLABELLED_KINDS = {"atepc": ("opinion",)}  # source prefix -> span kinds the set never marks


@dataclass(slots=True)
class TaggerTrainConfig:
    epochs: int = 2
    learning_rate: float = 1e-4
    batch_size: int = 16
    max_length: int = 128
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    polarity_weight: float = 0.5
    seed: int = 0
    checkpoint_every: int = 100
    threads: int = 0
    freeze_word_embeddings: bool = True


def build_tagger(base_dir: str | Path) -> Any:
    import torch
    from transformers import BertModel

    class SpanTagger(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False)
            hidden = self.bert.config.hidden_size
            self.dropout = torch.nn.Dropout(0.1)
            self.aspect = torch.nn.Linear(hidden, len(BIO))
            self.opinion = torch.nn.Linear(hidden, len(BIO))
            self.polarity = torch.nn.Linear(hidden, len(POLARITIES))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> tuple[Any, Any, Any]:
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                               token_type_ids=token_type_ids).last_hidden_state
            states = self.dropout(states)
            return self.aspect(states), self.opinion(states), self.polarity(states)

    return SpanTagger()


def token_targets(example: SpanExample, offsets: Sequence[tuple[int, int]]) -> tuple[list[int], list[int], list[int]]:
    """Aspect BIO, opinion BIO and polarity ids per token (-100: not trained)."""
    masked = next((kinds for prefix, kinds in UNLABELLED_KINDS.items() if example.source.startswith(prefix)), ())
    targets = {kind: [-100 if kind in masked else 0] * len(offsets) for kind in ("aspect", "opinion")}
    polarity = [-100] * len(offsets)
    for index, (start, end) in enumerate(offsets):
        if end <= start:  # [CLS], [SEP], padding
            for kind in targets:
                targets[kind][index] = -100
            continue
        for span in example.spans:
            if start < span.end and span.start < end:
                first = start <= span.start
                targets[span.kind][index] = BIO.index("B" if first else "I")
                if span.polarity:
                    polarity[index] = POLARITIES.index(span.polarity)
    return targets["aspect"], targets["opinion"], polarity


def training_examples(sets: Sequence[str] = SPAN_SETS) -> list[SpanExample]:
    return [example for name in sets for example in span_splits(name)[0]]


def train_tagger(examples: Sequence[SpanExample], base_dir: str | Path, out: str | Path,
                 config: TaggerTrainConfig | None = None, log_every: int = 50) -> Path:
    """Fine-tune into ``out`` (``model.pt``, tokenizer, ``training.json``); resumes a checkpoint."""
    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    config = config or TaggerTrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "model.pt").is_file():
        return out
    if config.threads:
        torch.set_num_threads(config.threads)
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = build_tagger(base_dir)
    if config.freeze_word_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].text))
    plan: list[list[int]] = []
    for _ in range(config.epochs):
        batches = [order[i:i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        rng.shuffle(batches)
        plan.extend(batches)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in trainable if not n.endswith("bias") and "LayerNorm" not in n],
         "weight_decay": config.weight_decay},
        {"params": [p for n, p in trainable if n.endswith("bias") or "LayerNorm" in n], "weight_decay": 0.0},
    ], lr=config.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(len(plan) * config.warmup_ratio), len(plan))
    step, losses, seconds = 0, [], 0.0
    checkpoint = out / "checkpoint.pt"
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, losses, seconds = state["step"], state["losses"], state["seconds"]
    started = time.perf_counter() - seconds
    criterion = torch.nn.CrossEntropyLoss(ignore_index=-100)
    model.train()
    while step < len(plan):
        batch = [examples[i] for i in plan[step]]
        enc = tokenizer([e.text for e in batch], padding=True, truncation=True, max_length=config.max_length,
                        return_offsets_mapping=True, return_tensors="pt")
        targets = [token_targets(e, [tuple(o) for o in offsets.tolist()])
                   for e, offsets in zip(batch, enc["offset_mapping"], strict=True)]
        aspect_logits, opinion_logits, polarity_logits = model(
            enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        loss = torch.zeros(())
        for head, logits, weight in ((0, aspect_logits, 1.0), (1, opinion_logits, 1.0),
                                     (2, polarity_logits, config.polarity_weight)):
            gold = torch.tensor([t[head] for t in targets])
            if bool((gold >= 0).any()):
                loss = loss + weight * criterion(logits.reshape(-1, logits.shape[-1]), gold.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        step += 1
        if step % log_every == 0:
            recent = losses[-log_every:]
            print(f"step {step}/{len(plan)} loss {sum(recent) / len(recent):.4f} "
                  f"{time.perf_counter() - started:.0f}s", flush=True)
        if step % config.checkpoint_every == 0 and step < len(plan):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step, "losses": losses,
                        "seconds": time.perf_counter() - started}, out / "checkpoint.tmp")
            (out / "checkpoint.tmp").replace(checkpoint)
    model.eval()
    tokenizer.save_pretrained(out)
    info = {"base": str(base_dir), "bio": list(BIO), "polarities": list(POLARITIES), "n_train": len(examples),
            "sources": sorted({e.source.split("_")[0] for e in examples}), "steps": len(plan),
            "train_seconds": round(time.perf_counter() - started, 1),
            "last_loss": sum(losses[-50:]) / max(1, len(losses[-50:])), "config": asdict(config)}
    (out / "training.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    torch.save(model.state_dict(), out / "model.tmp")
    (out / "model.tmp").replace(out / "model.pt")
    checkpoint.unlink(missing_ok=True)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--base", type=Path, default=None, help="HF dir of the base encoder (default: fetched)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--sets", default=",".join(SPAN_SETS))
    args = parser.parse_args(argv)
    base = args.base
    if base is None:
        from voc.encoder import ensure_encoder
        from voc.encoder.convert import hf_directory

        base = hf_directory(ensure_encoder())
    examples = training_examples(args.sets.split(","))
    train_tagger(examples, base, args.out, TaggerTrainConfig(epochs=args.epochs, threads=args.threads))


if __name__ == "__main__":
    main()
