"""Training the no-torch span tagger (two CRFs, ``voc.aspects.crf``) on the public span sets.

    .venv/bin/python -m models.aspects.crf_train OUT [--sets zhijiang,ccf_bank,diaasq,atepc] [--iterations 100]

The shipped tagger (``models/aspects/crf``) trains on the train parts of every set, so the span
bench (``bench/bench_aspects.py``) scores it on test parts it never saw.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from models.aspects.corpora import SPAN_SETS, SpanExample, span_splits
from models.aspects.tagger_train import UNLABELLED_KINDS
from voc.aspects.crf import Segmenter, train_crf


def train_from_examples(examples: Sequence[SpanExample], out: Path, segment: Segmenter | None,
                        iterations: int = 100) -> Path:
    skip: dict[str, set[int]] = {}
    for index, example in enumerate(examples):
        for prefix, kinds in UNLABELLED_KINDS.items():
            if example.source.startswith(prefix):
                for kind in kinds:
                    skip.setdefault(kind, set()).add(index)
    started = time.perf_counter()
    # c1 0.3 (L1) over 0.05: 4 MB instead of 8.8 and +0.01–0.03 exact F1 on the span bench
    train_crf([(e.text, [(s.start, s.end, s.kind) for s in e.spans]) for e in examples], out, segment,
              max_iterations=iterations, skip=skip, c1=0.3, c2=0.01)
    info = {"kind": "crf", "n_train": len(examples), "sources": sorted({e.source.split("_")[0] for e in examples}),
            "iterations": iterations, "c1": 0.3, "c2": 0.01, "train_seconds": round(time.perf_counter() - started, 1),
            "segmenter": "jieba (voc tokenizer)" if segment else "none"}
    (out / "voc_tagger.json").write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    from voc.text.tokenize import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sets", default=",".join(SPAN_SETS))
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args(argv)
    examples = [e for name in args.sets.split(",") for e in span_splits(name)[0]]
    # the bundled dictionaries only: CrfTagger segments with them at inference, whatever a user adds
    train_from_examples(examples, args.out, Tokenizer().segment, args.iterations)
    print(f"trained on {len(examples)} examples -> {args.out}")


if __name__ == "__main__":
    main()
