"""The fetched ONNX encoder as a standard Hugging Face ``BertModel`` directory, for fine-tuning.

Needs the ``ml`` extra (torch, transformers, onnx). The ONNX initialisers carry Hugging Face names,
except the weights of the 24 dense layers, which are anonymous (``onnx::MatMul_541``): the MatMul
node that reads each one is named after its layer (``/encoder/layer.0/attention/self/query/MatMul``)
and stores it as (in, out), the transpose of ``nn.Linear``. ``convert`` checks the converted model
against onnxruntime on a few sentences and refuses to write a directory that does not match.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from voc.encoder.fetch import EncoderFiles, publish_dir

# bge-small-zh-v1.5's architecture (its config.json); the checks below catch any mismatch
BGE_SMALL_ZH_CONFIG = {
    "architectures": ["BertModel"],
    "model_type": "bert",
    "hidden_size": 512,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "intermediate_size": 2048,
    "hidden_act": "gelu",
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "vocab_size": 21128,
    "layer_norm_eps": 1e-12,
    "pad_token_id": 0,
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
}
_MATMUL_NODE = re.compile(r"^/(encoder/layer\.\d+/.+)/MatMul$")
CHECK_SENTENCES = ("外卖送得很快，味道不错。", "客服电话一直打不通，等了四十分钟", "OK，iPhone 15 Pro 的电池 3000mAh")
MAX_ABS_DIFF = 1e-3


def onnx_state_dict(onnx_path: Path) -> dict[str, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    arrays = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    state: dict[str, np.ndarray] = {}
    for node in graph.node:
        match = _MATMUL_NODE.match(node.name) if node.op_type == "MatMul" else None
        if not match:
            continue
        weight = next((name for name in node.input if name in arrays), None)
        if weight is not None:
            state[match.group(1).replace("/", ".") + ".weight"] = arrays.pop(weight).T.copy()
    state.update({name: value for name, value in arrays.items() if not name.startswith("onnx::")})
    return state


def hf_directory(files: EncoderFiles, out: Path | None = None) -> Path:
    """The Hugging Face directory next to the extracted files (converted once, then reused)."""
    out = out or files.root / "hf"
    if (out / "config.json").is_file():
        return out
    return convert(files, out)


def convert(files: EncoderFiles, out: Path) -> Path:
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    state = {name: torch.from_numpy(value.copy()) for name, value in onnx_state_dict(files.onnx).items()}
    model = BertModel(BertConfig(**BGE_SMALL_ZH_CONFIG), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    # position_ids is a buffer transformers creates itself; everything else must come from the ONNX
    missing = [name for name in missing if not name.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"ONNX → BertModel: missing {missing}, unexpected {unexpected}")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(files.tokenizer),
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_max_length=512,
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )
    _check_against_onnx(model, tokenizer, files)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=out.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "voc_base.json").write_text(json.dumps({"onnx": str(files.onnx)}), encoding="utf-8")
        shutil.copy(files.root / "LICENSE-bge-small-zh-v1.5.txt", staging)
        publish_dir(staging, out, lambda directory: (directory / "config.json").is_file())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def _check_against_onnx(model: object, tokenizer: object, files: EncoderFiles) -> None:
    import onnxruntime as ort
    import torch

    session = ort.InferenceSession(str(files.onnx), providers=["CPUExecutionProvider"])
    enc = tokenizer(list(CHECK_SENTENCES), padding=True, return_tensors="np")  # type: ignore[operator]
    feeds = {name: enc[name].astype(np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
    expected = session.run(None, feeds)[0]
    model.eval()  # type: ignore[attr-defined]
    with torch.inference_mode():
        got = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state.numpy()  # type: ignore[operator]
    diff = float(np.abs(got - expected)[feeds["attention_mask"].astype(bool)].max())
    if diff > MAX_ABS_DIFF:
        raise ValueError(f"converted encoder differs from the ONNX model by {diff:.2e} (limit {MAX_ABS_DIFF})")
