"""`voc drivers`: which topics or indicators move NPS, the survey score, the rating or sentiment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from voc.cli import common
from voc.cli.common import (
    ChannelOpt,
    IndustryOpt,
    JsonOpt,
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
    emit_json,
    fail,
    open_service,
)
from voc.drivers import GROUPINGS, METRIC_NAMES, MIN_MENTIONS, MIN_RESPONSES, DriverError
from voc.drivers.service import drivers, matching

BAR_WIDTH = 12


@contextmanager
def _status(enabled: bool) -> Iterator[Any]:
    """A spinner naming the current step on stderr (a terminal only: --json and logs stay clean)."""
    if not enabled or not common.err_console.is_terminal:
        yield None
        return
    with common.err_console.status("drivers: loading documents") as status:
        yield lambda step: status.update(f"drivers: {step}")


def drivers_command(
    words: Annotated[list[str] | None, typer.Argument(
        help="Only documents holding these words (matched as voc search matches them); omit for all.",
        show_default=False)] = None,
    metric: Annotated[str, typer.Option("--metric", help=f"One of {', '.join(METRIC_NAMES)} (sentiment: "
                                                         "% positive - % negative).")] = "nps",
    by: Annotated[str, typer.Option("--by", help="topic (from voc topics build) or indicator (the current "
                                                 "indicator system).")] = "topic",
    source: SourceOpt = None, sentiment: SentimentOpt = None, tag: TagOpt = None, industry: IndustryOpt = None,
    channel: ChannelOpt = None, store: StoreOpt = None, topic: TopicOpt = None, since: SinceOpt = None,
    until: UntilOpt = None,
    rating_min: RatingMinOpt = None, rating_max: RatingMaxOpt = None, score_min: ScoreMinOpt = None,
    score_max: ScoreMaxOpt = None, nps: NpsOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, max=500, help="Themes shown in the table.")] = 15,
    min_responses: Annotated[int, typer.Option("--min-responses", min=1, help="Documents carrying the metric "
                                               "below which no figure is given.")] = MIN_RESPONSES,
    min_mentions: Annotated[int, typer.Option("--min-mentions", min=1, help="Mentions below which a theme gets "
                                              "no impact of its own.")] = MIN_MENTIONS,
    resamples: Annotated[int, typer.Option("--resamples", min=50, max=10_000,
                                           help="Bootstrap resamples of the impacts.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed (same seed, same intervals).")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """What drives the score: how many points each topic or indicator costs or adds, with 95% intervals,
    and key-driver importance. Takes the same filters as search."""
    check_choices("--metric", [metric], METRIC_NAMES)
    check_choices("--by", [by], GROUPINGS)
    filters = build_filters(source, sentiment, tag, industry, channel, store, topic, since, until,
                            rating_min=rating_min, rating_max=rating_max, score_min=score_min,
                            score_max=score_max, nps=nps)
    service = open_service()
    try:
        with _status(not as_json) as progress:
            filters = matching(service, filters, " ".join(words) if words else None)
            result = drivers(service, filters, metric=metric, by=by, progress=progress,  # type: ignore[arg-type]
                             min_responses=min_responses, min_mentions=min_mentions, resamples=resamples, seed=seed)
    except DriverError as exc:
        raise fail(str(exc)) from None
    finally:
        service.close()
    if as_json:
        emit_json(result.to_dict())
        return
    print_drivers(result.to_dict(), top)


def _bar(value: float, scale: float) -> str:
    """A text bar: left of the axis for a cost, right for a gain."""
    cells = round(abs(value) / scale * BAR_WIDTH) if scale else 0
    cells = min(BAR_WIDTH, cells)
    left = " " * (BAR_WIDTH - cells) + "█" * cells if value < 0 else " " * BAR_WIDTH
    right = "█" * cells + " " * (BAR_WIDTH - cells) if value > 0 else " " * BAR_WIDTH
    return f"[red]{left}[/]│[green]{right}[/]"


def print_drivers(result: dict[str, Any], top: int = 15) -> None:
    console = common.console
    overall = result["overall"]
    population = result["population"]
    if result["status"] != "ok" or overall is None:
        console.print(f"[bold]{escape(result['message'] or 'no result')}[/]", highlight=False)
        for note in result["notes"]:
            console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
        return
    console.print(f"[bold]{overall['title']}[/] {overall['value']:g} (95% interval {overall['low']:g} to "
                  f"{overall['high']:g}) over {overall['n']} documents; by {result['by']}", highlight=False)
    computed = [d for d in result["drivers"] if d["impact"] is not None]
    scale = max((abs(d["impact"]) for d in computed), default=0.0)
    table = Table(title=f"impact on {overall['title']} ({overall['unit']})", title_justify="left")
    table.add_column(result["by"], overflow="fold", ratio=1)
    for name in ("mentions", "neg.", "among them", "impact", "95% interval"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("cost │ gain", no_wrap=True)
    for driver in result["drivers"][:top]:
        label = escape(driver["label"])
        if driver["impact"] is None:
            table.add_row(label, str(driver["volume"]), str(driver["negative_volume"]),
                          _fmt(driver["metric_with"]), "[dim]not enough data[/]", "", "")
            continue
        table.add_row(label, str(driver["volume"]), str(driver["negative_volume"]), _fmt(driver["metric_with"]),
                      f"{driver['impact']:+.1f}", f"{driver['low']:+.1f} … {driver['high']:+.1f}",
                      _bar(driver["impact"], scale))
    console.print(table)
    hidden = len(result["drivers"]) - top
    if hidden > 0:
        console.print(f"[dim]{hidden} more themes (--top, or --json for all)[/]")
    _print_model(result["key_drivers"])
    console.print(f"[dim]impact: how much {overall['title']} would change without the documents that mention the "
                  f"theme (negative: the theme costs points). An association in this feedback, not proof of "
                  f"cause. {population['near_duplicates_left_out']} near-duplicate copies counted once.[/]",
                  highlight=False)
    for note in result["notes"]:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False)


def _print_model(model: dict[str, Any] | None) -> None:
    if not model:
        return
    console = common.console
    if model["status"] != "ok":
        console.print(f"[dim]key drivers: {escape(model['message'])}[/]", highlight=False)
        return
    table = Table(title=f"key drivers (R² {model['r2']:.2f}, 95% {model['r2_low']:.2f}-{model['r2_high']:.2f})",
                  title_justify="left")
    table.add_column("theme", overflow="fold", ratio=1)
    for name in ("share of R²", "importance 95%", "mentioned", "said negatively"):
        table.add_column(name, justify="right", no_wrap=True)
    for theme in model["themes"]:
        table.add_row(escape(theme["label"]), f"{theme['share_of_r2']:.0%}",
                      f"{theme['low']:.3f}-{theme['high']:.3f}", _effect(theme, "effect"),
                      _effect(theme, "negative_effect"))
    console.print(table)
    console.print("[dim]key drivers: ridge regression of each document's value on the themes it mentions and "
                  "mentions negatively (effects in points, other themes held equal); importance is each theme's "
                  "share of the explained variance (relative weights).[/]", highlight=False)


def _effect(theme: dict[str, Any], name: str) -> str:
    if theme.get(name) is None:
        return "-"
    return f"{theme[name]:+.1f} ({theme[name + '_low']:+.0f}…{theme[name + '_high']:+.0f})"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
