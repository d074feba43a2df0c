"""`voc export`: the hits of a search (the query and filters of `voc search`) as CSV or XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from indexing import SORT_ORDERS
from voc.cli import common
from voc.cli.common import (
    ChannelOpt,
    IndustryOpt,
    NpsOpt,
    RatingMaxOpt,
    RatingMinOpt,
    ScoreMaxOpt,
    ScoreMinOpt,
    SentimentOpt,
    SinceOpt,
    SourceOpt,
    StoreOpt,
    TagOpt,
    TopicOpt,
    UntilOpt,
    build_filters,
    check_choices,
    fail,
    no_match_message,
)
from voc.cli.org import ScopeOpt, scoped_service
from voc.export import EXPORT_COLUMNS, EXPORT_FORMATS, iter_hits, parse_columns, write_csv, write_xlsx


def export_command(
    words: Annotated[list[str] | None, typer.Argument(
        help="Words to find, as in voc search; omit to export everything the filters match.",
        show_default=False)] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write; .csv or .xlsx.",
                                         dir_okay=False)] = Path("voc-export.csv"),
    fmt: Annotated[str | None, typer.Option(
        "--format", help="csv (UTF-8 with BOM, opens in Excel) or xlsx; default from the file name.")] = None,
    columns: Annotated[str | None, typer.Option(
        "--columns", help=f"Comma-separated, from: {','.join(EXPORT_COLUMNS)}.")] = None,
    source: SourceOpt = None, sentiment: SentimentOpt = None, tag: TagOpt = None, industry: IndustryOpt = None,
    channel: ChannelOpt = None, store: StoreOpt = None, topic: TopicOpt = None, since: SinceOpt = None,
    until: UntilOpt = None,
    rating_min: RatingMinOpt = None, rating_max: RatingMaxOpt = None, score_min: ScoreMinOpt = None,
    score_max: ScoreMaxOpt = None, nps: NpsOpt = None,
    sort: Annotated[str, typer.Option("--sort", help=f"One of {', '.join(SORT_ORDERS)}.")] = "relevance",
    no_duplicates: Annotated[bool, typer.Option("--no-duplicates", help="Leave out near-duplicate copies.")] = False,
    scope: ScopeOpt = None,
) -> None:
    """Export every hit of a search to CSV or XLSX: PII-masked text only, formula-escaped cells, streamed
    page by page so large sets fit in memory."""
    chosen_format = fmt or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
    check_choices("--format", [chosen_format], EXPORT_FORMATS)
    check_choices("--sort", [sort], SORT_ORDERS)
    try:
        chosen = parse_columns(columns)
    except ValueError as exc:
        raise fail(f"--columns: {exc}") from None
    query = " ".join(words) if words else None
    filters = build_filters(source, sentiment, tag, industry, channel, store, topic, since, until,
                            rating_min=rating_min, rating_max=rating_max, score_min=score_min,
                            score_max=score_max, nps=nps)
    filters.exclude_near_duplicates = no_duplicates
    opened, service = scoped_service(scope)
    try:
        hits = iter_hits(service, query, filters, sort=sort)
        written = write_xlsx(hits, chosen, output) if chosen_format == "xlsx" else write_csv(hits, chosen, output)
        note = no_match_message(service, query, filters) if written == 0 else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        opened.close()
    if note:
        common.err_console.print(note, highlight=False, soft_wrap=True)
    common.console.print(f"wrote {written} documents to {output} ({chosen_format})", highlight=False,
                         soft_wrap=True)
