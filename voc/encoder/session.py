"""Opening an exported encoder for inference: the onnxruntime session and the tokenizer.

Shared by the sentiment encoder and the span tagger. CPU sessions run the int8 file with one
intra-op thread by default (ingest runs a worker per core, the API one per worker) and no spinning
(idle pool threads would hold a core between short calls); where onnxruntime sees CUDA and an fp32
export sits beside the int8 one, the fp32 file runs on the GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voc.encoder.export import INPUTS, MODEL_FILE
from voc.encoder.fetch import EncoderUnavailable

FP32_FILE = "model.fp32.onnx"


@dataclass(slots=True)
class OpenedEncoder:
    session: Any
    tokenizer: Any
    on_gpu: bool


def open_encoder(model_dir: Path, max_length: int, threads: int = 1) -> OpenedEncoder:
    """``threads`` 0: onnxruntime's default (all cores)."""
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise EncoderUnavailable(
            f"the encoder needs onnxruntime and tokenizers ({exc.name} is missing): pip install 'voc[encoder]'"
        ) from None
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.no_padding()
    options = ort.SessionOptions()
    options.inter_op_num_threads = 1
    if threads:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    gpu = "CUDAExecutionProvider" in ort.get_available_providers() and (model_dir / FP32_FILE).is_file()
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if gpu else ["CPUExecutionProvider"]
    session = ort.InferenceSession(str(model_dir / (FP32_FILE if gpu else MODEL_FILE)), options, providers=providers)
    return OpenedEncoder(session, tokenizer, gpu)


def padded_feeds(encodings: Sequence[Any], rows: Sequence[int]) -> dict[str, np.ndarray]:
    """The model inputs of some encoded texts, zero-padded to the longest (segment ids all 0)."""
    width = max(len(encodings[i].ids) for i in rows)
    feeds = {name: np.zeros((len(rows), width), dtype=np.int64) for name in INPUTS}
    for r, i in enumerate(rows):
        ids = encodings[i].ids
        feeds["input_ids"][r, :len(ids)] = ids
        feeds["attention_mask"][r, :len(ids)] = 1
    return feeds
