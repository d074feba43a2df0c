"""Train the shipped encoder and the leave-one-domain-out encoders, resumably, one after another.

    python -m models.sentiment.train_plan --base DIR --workdir DIR [--only ship|lodo] [--per-domain N]

Each model lands in ``WORKDIR/<name>/`` (``ship`` or ``lodo-<domain>``), exported to int8 ONNX in
``WORKDIR/<name>/export``; a finished one is skipped, an interrupted one resumes from its
checkpoint. Progress goes to stdout, one line per 20 steps.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from models.sentiment.corpora import AUXILIARY, TEST_DOMAINS, load_domain
from models.sentiment.data import LabelledData
from models.sentiment.encoder_train import EncoderTrainConfig, train_encoder
from models.sentiment.linear_train import train_linear
from models.sentiment.mixture import benchmark_splits, sample, training_mixture
from voc.encoder.export import META_FILE, export_sentiment_encoder


def train_shipped_linear(out: Path) -> int:
    """The cascade's linear model: every row of the six domains, at most 1,000 of each auxiliary set
    (as in the benchmark's n-gram systems, which train on the 80% parts)."""
    parts = [load_domain(name) for name in TEST_DOMAINS]
    parts += [sample(load_domain(name), 1000) for name in AUXILIARY]
    data = LabelledData()
    for part in parts:
        data.extend(LabelledData(part.texts, part.labels))
    model = train_linear(data, meta={"sources": [*TEST_DOMAINS, *(f"{a} (1,000 rows)" for a in AUXILIARY)]})
    model.save(out)
    print(f"linear: {len(data.texts)} rows → {out}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--only", choices=("ship", "lodo"), default=None)
    parser.add_argument("--per-domain", type=int, default=3500)
    parser.add_argument("--lodo-per-domain", type=int, default=800)
    parser.add_argument("--lodo-per-auxiliary", type=int, default=500)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--init", help="continue from this earlier model directory (a second pass)")
    parser.add_argument("--seed", type=int, default=0, help="sampling and shuffling seed")
    parser.add_argument("--ship-name", default="ship")
    parser.add_argument("--linear", type=Path, help="instead: train the shipped linear model into this directory")
    args = parser.parse_args(argv)
    if args.linear:
        return train_shipped_linear(args.linear)
    splits = benchmark_splits()
    plan: list[tuple[str, str | None, int, int]] = []
    if args.only in (None, "ship"):
        plan.append((args.ship_name, None, args.per_domain, 1000))
    if args.only in (None, "lodo"):
        plan += [(f"lodo-{d}", d, args.lodo_per_domain, args.lodo_per_auxiliary) for d in TEST_DOMAINS]
    for name, held_out, per_domain, per_auxiliary in plan:
        out = args.workdir / name
        data, weights, counts = training_mixture(splits, held_out, per_domain, per_auxiliary, seed=args.seed)
        out.mkdir(parents=True, exist_ok=True)
        (out / "mixture.json").write_text(json.dumps({"held_out": held_out, "counts": counts}, indent=2))
        started = time.time()

        def report(step: int, steps: int, loss: float, name: str = name, started: float = started) -> None:
            if step % 20 == 0 or step == steps:
                print(f"{name} {step}/{steps} loss {loss:.3f} {time.time() - started:.0f}s", flush=True)

        config = EncoderTrainConfig(epochs=args.epochs, max_length=args.max_length, threads=args.threads,
                                    seed=args.seed, init_from=args.init)
        train_encoder(data, args.base, out, config, weights, report)
        if not (out / "export" / META_FILE).is_file():
            export_sentiment_encoder(out, Path(args.base), out / "export")
        print(f"{name} done: {len(data.texts)} rows {counts}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
