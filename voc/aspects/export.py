"""A trained encoder span tagger as int8 ONNX + tokenizer + ``voc_tagger.json`` (needs the ``ml`` extra)."""

from __future__ import annotations

import json
from pathlib import Path

from voc.aspects.encoder_tagger import META_FILE
from voc.encoder.export import copy_tokenizer_and_licence, export_int8

OUTPUTS = ("aspect_logits", "opinion_logits", "polarity_logits")


def export_tagger(trained: Path, base_dir: Path, out: Path, keep_fp32: bool = False) -> Path:
    import torch

    from models.aspects.tagger_train import build_tagger

    model = build_tagger(base_dir)
    model.load_state_dict(torch.load(trained / "model.pt", weights_only=True))
    model.eval()
    export_int8(model, out, OUTPUTS, per_token=True, keep_fp32=keep_fp32)
    copy_tokenizer_and_licence(trained, base_dir, out)
    training = json.loads((trained / "training.json").read_text(encoding="utf-8"))
    meta = {"kind": "encoder", "bio": training["bio"], "polarities": training["polarities"],
            "max_length": training["config"]["max_length"], "training": training}
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return out
