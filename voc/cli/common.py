"""Shared CLI plumbing: the service object, JSON output, progress bars, clean errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from indexing import Filters
from indexing.base import NPS_GROUPS
from voc.documents import SOURCE_KINDS
from voc.service import Voc, parse_day
from voc.settings import VocSettings

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")

console = Console()
err_console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="survey, hotline or review (repeatable).")]
SentimentOpt = Annotated[
    list[str] | None, typer.Option("--sentiment", help="negative, neutral or positive (repeatable).")
]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Only documents with this tag (repeatable).")]
IndustryOpt = Annotated[list[str] | None, typer.Option("--industry", help="Industry (repeatable).")]
ChannelOpt = Annotated[list[str] | None, typer.Option("--channel", help="Channel (repeatable).")]
StoreOpt = Annotated[list[str] | None, typer.Option("--store", help="Store or product (repeatable).")]
TopicOpt = Annotated[list[int] | None, typer.Option("--topic", help="Topic id (repeatable).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="From this date (YYYY-MM-DD).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="Up to this date (YYYY-MM-DD).")]
RatingMinOpt = Annotated[float | None, typer.Option("--rating-min", min=0, max=5,
                                                   help="Star rating at least this (1-5; e.g. --rating-max 1 for "
                                                        "1-star reviews).")]
RatingMaxOpt = Annotated[float | None, typer.Option("--rating-max", min=0, max=5, help="Star rating at most this.")]
ScoreMinOpt = Annotated[float | None, typer.Option("--score-min", min=0, max=10, help="Survey score at least this.")]
ScoreMaxOpt = Annotated[float | None, typer.Option("--score-max", min=0, max=10, help="Survey score at most this.")]
NpsOpt = Annotated[list[str] | None, typer.Option("--nps", help="detractor (0-6), passive (7-8) or promoter (9-10) "
                                                                "by survey score (repeatable).")]


def fail(message: str, code: int = 2) -> typer.Exit:
    # soft_wrap: one line however long, so scripts and logs see the whole message on one line
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def open_service(**overrides: Any) -> Voc:
    try:
        return Voc(VocSettings(**{k: v for k, v in overrides.items() if v is not None}))
    except ValidationError as exc:
        problems = "; ".join(f"VOC_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise fail(f"invalid settings: {problems}") from None


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def build_filters(
    source: list[str] | None = None, sentiment: list[str] | None = None, tag: list[str] | None = None,
    industry: list[str] | None = None, channel: list[str] | None = None, store: list[str] | None = None,
    topic: list[int] | None = None, since: str | None = None, until: str | None = None, *,
    rating_min: float | None = None, rating_max: float | None = None, score_min: float | None = None,
    score_max: float | None = None, nps: list[str] | None = None,
) -> Filters:
    # A misspelt enum value (negtive, reviwe) would otherwise match nothing and look like an answer.
    check_choices("--source", source, SOURCE_KINDS)
    check_choices("--sentiment", sentiment, SENTIMENT_LABELS)
    check_choices("--nps", nps, NPS_GROUPS)
    try:
        since_at, until_at = parse_day(since), parse_day(until)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if until_at and until and len(until.strip()) <= 10:
        until_at = until_at.replace(hour=23, minute=59, second=59)  # a bare date means the whole day
    return Filters(source=source or [], sentiment=sentiment or [], tags=tag or [], industry=industry or [],
                   channel=channel or [], store=store or [], topic=topic or [], since=since_at, until=until_at,
                   rating_min=rating_min, rating_max=rating_max, score_min=score_min, score_max=score_max,
                   nps=nps or [])


def check_choices(option: str, values: list[str] | None, allowed: tuple[str, ...]) -> None:
    """Exit 2 naming the allowed values when any of ``values`` is not one of them."""
    unknown = [value for value in values or [] if value not in allowed]
    if unknown:
        raise fail(f"{option} {', '.join(map(repr, unknown))} is not a known value; use one of {', '.join(allowed)}")


def describe_filters(query: str | None, filters: Filters) -> str:
    """The query and filters in words, for a "no documents match" line."""
    parts = [f"query {query.strip()!r}"] if query and query.strip() else []
    for name in ("source", "sentiment", "industry", "channel", "product", "store", "topic", "tags", "nps"):
        values = getattr(filters, name)
        if values:
            parts.append(f"{name}={','.join(map(str, values))}")
    for name in ("rating_min", "rating_max", "score_min", "score_max"):
        if getattr(filters, name) is not None:
            parts.append(f"{name.replace('_', ' ')} {getattr(filters, name):g}")
    if filters.since:
        parts.append(f"since {filters.since.date().isoformat()}")
    if filters.until:
        parts.append(f"until {filters.until.date().isoformat()}")
    if filters.exclude_near_duplicates:
        parts.append("no near-duplicates")
    return ", ".join(parts) or "everything"


# Free-text filters: a value no document has is named with the values that do occur.
_OPEN_FILTERS = ("industry", "channel", "product", "store")


def no_match_message(service: Voc, query: str | None, filters: Filters) -> str:
    """Why a search found nothing: an empty store (say where it is and what to do), or the query and
    filters in words, with the known values of a free-text filter that no document carries."""
    if service.store.count() == 0:
        return (f"this store is empty ({service.settings.home.absolute()}); ingest something "
                "(voc ingest FILE, or voc demo) or set VOC_HOME to the data directory you ingested into")
    message = f"no documents match: {describe_filters(query, filters)}"
    wanted = [name for name in _OPEN_FILTERS if getattr(filters, name)]
    if wanted:
        known = service.search(None, facets=tuple(wanted), facet_size=10, limit=1, highlight=False).facets
        for name in wanted:
            missing = [v for v in getattr(filters, name) if v not in known.get(name, {})]
            if missing:
                values = ", ".join(known.get(name, {})) or "none"
                message += f"; no document has {name} {', '.join(missing)} (known: {values})"
    return message


@contextmanager
def progress_bar(description: str, total: int | None, enabled: bool = True,
                 waiting: str | None = None) -> Iterator[Any]:
    """A progress bar on stderr (only on a terminal, so --json output and logs stay clean).

    ``waiting`` is shown until the first step ("loading models" while workers start): a bar at 0 for
    seconds with no word looks hung.
    """
    if not enabled or not err_console.is_terminal:
        yield lambda advance: None
        return
    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn()]
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task(waiting or description, total=total)
        started = [waiting is None]

        def advance(steps: int) -> None:
            if not started[0]:
                started[0] = True
                progress.update(task, description=description)
            progress.advance(task, steps)

        yield advance
