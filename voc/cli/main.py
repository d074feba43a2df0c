"""The `voc` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from indexing import BackendUnavailable
from voc.cli import common, help_style
from voc.cli.alerts import alerts_app
from voc.cli.common import JsonOpt, emit_json, open_service
from voc.cli.drivers import drivers_command
from voc.cli.es import es_app
from voc.cli.export import export_command
from voc.cli.failures import EXIT_STORAGE, STORAGE_ERRORS, storage_failure_message
from voc.cli.index import index_app
from voc.cli.indicator_examples import learn_command
from voc.cli.indicators import indicators_app
from voc.cli.ingest import ingest_command
from voc.cli.keys import keys_app
from voc.cli.models import models_app
from voc.cli.org import org_app
from voc.cli.pg import pg_app
from voc.cli.search import search_command, show_command
from voc.cli.serve import serve_command
from voc.cli.spark import spark_app
from voc.cli.tags import tag_app
from voc.cli.tickets import tickets_app
from voc.cli.topics import topics_app
from voc.cli.words import words_app
from voc.settings import VocSettings

help_style.apply()

app = typer.Typer(
    name="voc",
    help="Chinese voice-of-the-customer mining: ingest, normalise, tokenise, analyse, search and tag feedback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(tag_app, name="tag")
app.add_typer(words_app, name="words")
app.add_typer(index_app, name="index")
app.add_typer(models_app, name="models")
app.add_typer(es_app, name="es")
app.add_typer(pg_app, name="pg")
app.add_typer(topics_app, name="topics")
app.add_typer(spark_app, name="spark")
app.add_typer(tickets_app, name="tickets")
indicators_app.command("learn")(learn_command)
app.add_typer(indicators_app, name="indicators")
app.command("search")(search_command)
app.command("show")(show_command)
app.command("export")(export_command)
app.command("drivers")(drivers_command)
app.add_typer(keys_app, name="keys")
app.add_typer(org_app, name="org")
app.command("serve")(serve_command)
app.command("ingest")(ingest_command)
app.add_typer(alerts_app, name="alerts")



@app.command()
def analyze(
    text: Annotated[str, typer.Argument(help="The text to analyse (not stored).")],
    source: Annotated[str, typer.Option("--source", help="survey, hotline or review.")] = "review",
    as_json: JsonOpt = False,
) -> None:
    """Analyse one text: normalised masked text, tokens, PII found, and each analysis stage's output."""
    service = open_service()
    result = service.analyze(text, source=source)
    if as_json:
        emit_json(result)
        return
    common.console.print(f"[bold]text[/]   {result['text']}", highlight=False)
    common.console.print(f"[bold]tokens[/] {' / '.join(result['tokens'])}", highlight=False)
    for span in result["pii"]:
        common.console.print(f"[bold]pii[/]    {span['type']} at {span['start']}-{span['end']}", highlight=False)
    if "sentiment" in result:
        print_sentiment(result["sentiment"])


def print_sentiment(sentiment: dict[str, Any]) -> None:
    """The document label, then what a mixed review is made of: each clause's label, each aspect with its
    term and opinion span, and the emotion when the model gives one (快递太慢了，但是东西不错 is one
    negative label but a negative logistics clause and a positive product one)."""
    out = common.console
    out.print(f"[bold]sentiment[/] {sentiment['label']} ({sentiment['score']:+.2f})", highlight=False)
    clauses = sentiment.get("clauses") or []
    if len(clauses) > 1:
        out.print("[bold]clauses[/]")
        for clause in clauses:
            out.print(f"  {clause['label']:<8} {clause['score']:+.2f}  {escape(clause['text'])}", highlight=False)
    aspects = sentiment.get("aspects") or []
    if aspects:
        out.print("[bold]aspects[/] (category · term → opinion · polarity)")
    for aspect in aspects:
        term = aspect.get("term") or "(implicit)"
        confidence = aspect.get("confidence")
        sure = f", p={confidence:.2f}" if confidence is not None and confidence < 1 else ""
        out.print(f"  {escape(aspect.get('aspect') or '(uncategorised)')} · {escape(term)} → "
                  f"{escape(aspect['opinion'])} · {aspect['polarity']} ({aspect['score']:+.2f}{sure})",
                  highlight=False)
    emotion = sentiment.get("emotion")
    if isinstance(emotion, dict) and emotion:
        ranked = sorted(emotion.items(), key=lambda item: -float(item[1]))[:3]
        out.print("[bold]emotion[/] " + ", ".join(f"{name} {float(value):.2f}" for name, value in ranked),
                  highlight=False)
    elif emotion:
        out.print(f"[bold]emotion[/] {escape(str(emotion))}", highlight=False)


@app.command()
def demo(
    home: Annotated[Path | None, typer.Option("--home", help="Data directory (default VOC_HOME).")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Delete the store and index in the data dir first.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Ingest the bundled sample corpus, run every stage and print a short report."""
    from voc.demo_run import print_report, run_demo

    service = open_service(home=home)
    report = run_demo(service, fresh=fresh, show_progress=not as_json)
    if as_json:
        emit_json(report)
    else:
        print_report(report, common.console)


@app.command("config")
def show_config(as_json: JsonOpt = False) -> None:
    """Show the effective settings (secrets hidden)."""
    values = open_service().settings.redacted()
    if as_json:
        emit_json(values)
        return
    for key, value in values.items():
        common.console.print(f"{key} = {value}", highlight=False)


def main() -> None:
    """Console entry point: an unreachable search backend (exit 2) and a store or disk that refuses
    (full, read-only, no permission; exit 4) are one clear line, not a traceback."""
    try:
        app()
    except BackendUnavailable as exc:
        raise SystemExit(common.fail(str(exc)).exit_code) from None
    except STORAGE_ERRORS as exc:
        raise SystemExit(common.fail(storage_failure_message(exc, _home()), EXIT_STORAGE).exit_code) from None


def _home() -> Path | None:
    try:
        return VocSettings().home.absolute()
    except Exception:  # settings that do not validate were reported by the command itself
        return None
