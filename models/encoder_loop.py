"""The fine-tuning loop the encoder trainers share (sentiment heads, span tagger).

AdamW with weight decay off for biases and LayerNorm, linear warm-up and decay, gradient clipping at
1.0; a checkpoint (model, optimizer, scheduler, step, losses, seconds) every ``checkpoint_every``
steps, resumed when the loop starts again in the same directory, so a cut-off run loses minutes. The
caller gives the model, the batch plan and a function from a batch to its loss; the loop leaves
``model.pt`` (written aside, then renamed) and returns the losses and the seconds spent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Batch = list[int]


@dataclass(slots=True)
class LoopConfig:
    learning_rate: float
    weight_decay: float
    warmup_ratio: float
    checkpoint_every: int
    seed: int = 0
    threads: int = 0  # 0: torch's default
    freeze_word_embeddings: bool = True


@dataclass(slots=True)
class LoopResult:
    losses: list[float]
    seconds: float
    steps: int


def prepare(config: LoopConfig) -> None:
    """Threads and seed, before the model is built (its heads' initial weights depend on the seed)."""
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)


def run_loop(model: Any, plan: Sequence[Batch], batch_loss: Callable[[Batch], Any], out: Path, config: LoopConfig,
             progress: Callable[[int, int, float], None] | None = None) -> LoopResult:
    import torch
    from transformers import get_linear_schedule_with_warmup

    if config.freeze_word_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    steps = max(1, len(plan))
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in trainable if not n.endswith("bias") and "LayerNorm" not in n],
         "weight_decay": config.weight_decay},
        {"params": [p for n, p in trainable if n.endswith("bias") or "LayerNorm" in n], "weight_decay": 0.0},
    ], lr=config.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(steps * config.warmup_ratio), steps)
    step, losses, seconds = 0, [], 0.0
    checkpoint = out / "checkpoint.pt"
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, losses, seconds = state["step"], state["losses"], state["seconds"]
    started = time.perf_counter() - seconds
    model.train()
    while step < len(plan):
        loss = batch_loss(plan[step])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        step += 1
        if progress:
            progress(step, steps, losses[-1])
        if step % config.checkpoint_every == 0 and step < len(plan):
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step, "losses": losses,
                        "seconds": time.perf_counter() - started}, out / "checkpoint.tmp")
            (out / "checkpoint.tmp").replace(checkpoint)
    model.eval()
    return LoopResult(losses, time.perf_counter() - started, steps)


def save_model(model: Any, out: Path) -> None:
    """``model.pt`` (aside, then renamed: its presence means the run finished); the checkpoint goes."""
    import torch

    torch.save(model.state_dict(), out / "model.tmp")
    (out / "model.tmp").replace(out / "model.pt")
    (out / "checkpoint.pt").unlink(missing_ok=True)


def length_sorted_batches(lengths: Sequence[int], size: int, epochs: int, seed: int) -> list[Batch]:
    """Rows sorted by length and cut into batches (little padding), the batches shuffled per epoch."""
    import random

    rng = random.Random(seed)
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    plan: list[Batch] = []
    for _ in range(epochs):
        batches = [order[i:i + size] for i in range(0, len(order), size)]
        rng.shuffle(batches)
        plan.extend(batches)
    return plan
