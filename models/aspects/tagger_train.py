"""Fine-tuning the fetched encoder as an aspect / opinion span tagger.

Three token heads on one encoder: aspect BIO, opinion BIO and polarity (negative / neutral /
positive, trained on the tokens of spans whose polarity the data gives). A set that does not label
a kind trains no head for it: atepc marks aspects only, so its opinion head targets are masked
rather than taught "no opinion here". The loop is ``models.encoder_loop`` (checkpoints every
``checkpoint_every`` steps, resumed when started again). ``voc.aspects.export`` turns the result
into int8 ONNX for inference without torch.

    .venv/bin/python -m models.aspects.tagger_train OUT [--epochs 2] [--threads 1] [--base DIR]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from models.aspects.corpora import SPAN_SETS, SpanExample, span_splits
from models.encoder_loop import LoopConfig, length_sorted_batches, prepare, run_loop, save_model

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
    from transformers import AutoTokenizer

    config = config or TaggerTrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "model.pt").is_file():
        return out
    loop = LoopConfig(config.learning_rate, config.weight_decay, config.warmup_ratio, config.checkpoint_every,
                      config.seed, config.threads, config.freeze_word_embeddings)
    prepare(loop)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = build_tagger(base_dir)
    plan = length_sorted_batches([len(e.text) for e in examples], config.batch_size, config.epochs, config.seed)
    criterion = torch.nn.CrossEntropyLoss(ignore_index=-100)

    def batch_loss(rows: list[int]) -> Any:
        batch = [examples[i] for i in rows]
        enc = tokenizer([e.text for e in batch], padding=True, truncation=True, max_length=config.max_length,
                        return_offsets_mapping=True, return_tensors="pt")
        targets = [token_targets(e, [tuple(o) for o in offsets.tolist()])
                   for e, offsets in zip(batch, enc["offset_mapping"], strict=True)]
        heads = model(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
        loss = torch.zeros(())
        for index, (logits, weight) in enumerate(zip(heads, (1.0, 1.0, config.polarity_weight), strict=True)):
            gold = torch.tensor([t[index] for t in targets])
            if bool((gold >= 0).any()):
                loss = loss + weight * criterion(logits.reshape(-1, logits.shape[-1]), gold.reshape(-1))
        return loss

    def log(step: int, steps: int, _loss: float) -> None:
        if step % log_every == 0:
            print(f"step {step}/{steps}", flush=True)

    result = run_loop(model, plan, batch_loss, out, loop, log)
    tokenizer.save_pretrained(out)
    info = {"base": str(base_dir), "bio": list(BIO), "polarities": list(POLARITIES), "n_train": len(examples),
            "sources": sorted({e.source.split("_")[0] for e in examples}), "steps": result.steps,
            "train_seconds": round(result.seconds, 1),
            "last_loss": sum(result.losses[-50:]) / max(1, len(result.losses[-50:])), "config": asdict(config)}
    (out / "training.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    save_model(model, out)
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
