"""`voc topics`: build, list, show, trend, emerging and eval."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail, open_service
from voc.cli.org import ScopeOpt, scoped_service
from voc.dated import NO_TIME_HINT, any_dated
from voc.service import Voc, parse_day

topics_app = typer.Typer(help="Topic discovery: build topics, read them, follow trends, spot emerging issues.",
                         no_args_is_help=True)

IntervalOpt = Annotated[str, typer.Option("--interval", help="day or week.")]


@contextmanager
def _service(scope: list[str] | None = None) -> Iterator[Voc]:
    """The service (seen through ``--scope`` when given: topics, words and quotes of those nodes'
    documents only), closed afterwards; a ValueError (bad interval, nothing in scope) is bad input: exit 2."""
    opened, service = scoped_service(scope) if scope else (open_service(),) * 2
    try:
        yield service
    except ValueError as exc:
        raise fail(str(exc)) from None
    finally:
        opened.close()


@topics_app.command("build")
def build(
    source: Annotated[str | None, typer.Option("--source", help="Cluster only this source.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Cluster only documents from this date.")] = None,
    sample: Annotated[int | None, typer.Option(
        "--sample", min=1, help="Fit on a stratified sample (month × source × industry) of N documents and assign "
        "the rest; default: VOC_TOPIC_SAMPLE_SIZE above VOC_TOPIC_SAMPLE_THRESHOLD documents in scope.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cluster stored documents into topics (hotline calls by their customer turns), keeping ids stable.

    Every stored document then carries a topic (or -1); the search index is brought up to date.
    """
    from voc.topics.sampling import BUILD_STEPS

    with _service() as service, common.progress_bar("topics", BUILD_STEPS, enabled=not as_json) as advance:
        _warn_cleared(service)
        report = service.topics.build(source=source, since=parse_day(since), sample=sample,
                                      progress=lambda step: advance(1))
        synced = service.sync_index()
    if as_json:
        emit_json({**report.to_dict(), "indexed": synced.indexed})
        return
    fitted = f", fitted on a sample of {report.n_fitted}" if report.n_fitted < report.n_documents else ""
    common.console.print(
        f"{report.n_topics} topics over {report.n_documents} documents{fitted} (outliers {report.outlier_share:.1%}); "
        f"kept {report.carried_over} ids, {report.new_topics} new, {report.retired} retired")


def _warn_cleared(service: Voc) -> None:
    for build in service.topics.cleared_builds:
        common.err_console.print(f"[yellow]warning:[/] topic build {build['id']} marked failed: {build['error']}",
                                 highlight=False)


@topics_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """The current build and the recent ones; a build whose process died is marked failed here, with why."""
    with _service() as service:
        report = service.topics.status()
    if as_json:
        emit_json(report)
        return
    current = report["current_build"]
    common.console.print(f"current build: {current if current is not None else 'none yet: run `voc topics build`'}")
    for build in report["builds"]:
        line = f"{build['id']:>4}  {build['status']:<8} started {build['started_at']:%Y-%m-%d %H:%M:%S} UTC"
        if build["status"] == "done":
            line += f"  {build['n_topics']} topics over {build['n_documents']} documents"
        if build["error"]:
            line += f"  ({build['error']})"
        common.console.print(line, highlight=False)


@topics_app.command("list")
def list_topics(scope: ScopeOpt = None, as_json: JsonOpt = False) -> None:
    """Topics of the last build, largest first."""
    with _service(scope) as service:
        topics = service.topics.list_topics()
        _warn_cleared(service)
    if as_json:
        emit_json([{key: t.to_dict()[key] for key in ("id", "label", "keywords", "size", "negative_share", "quotes")}
                   for t in topics])
        return
    if not topics:
        common.console.print("no topics yet: run `voc topics build`")
        return
    common.console.print(f"[bold]{'id':>4}  {'docs':>6}  {'neg':>8}  label  [dim]keywords[/dim][/bold]")
    for topic in topics:
        common.console.print(f"{topic.id:>4}  {topic.size:>6}  neg {topic.negative_share:>5.0%}  {topic.label}  "
                             f"[dim]{' '.join(topic.keywords[:6])}[/dim]")


@topics_app.command("show")
def show(topic_id: Annotated[int, typer.Argument(help="Topic id.")], interval: IntervalOpt = "week",
         scope: ScopeOpt = None, as_json: JsonOpt = False) -> None:
    """One topic: keywords, quotes and its trend."""
    with _service(scope) as service:
        topic = service.topics.topic(topic_id, interval)
        why = _why_no_trend(service) if topic is not None and not topic["trend"] else None
    if topic is None:
        raise fail(f"no topic {topic_id}", code=1)
    if as_json:
        emit_json(topic)
        return
    common.console.print(f"[bold]{topic['id']} {topic['label']}[/bold]  size {topic['size']}, "
                         f"negative {topic['negative_share']:.0%}, {topic['status']}")
    common.console.print("keywords: " + " ".join(topic["keywords"]))
    for quote in topic["quotes"]:
        common.console.print(f"  “{quote}”")
    if why:
        common.console.print(f"  trend: none, {why}", highlight=False, soft_wrap=True)
    for point in topic["trend"]:
        common.console.print(f"  {point['period']}  {point['count']:>5}  {'█' * min(point['count'], 60)}")


def _why_no_trend(service: Voc) -> str:
    """An empty trend: the store has no time at all, or only this topic's documents lack one."""
    return NO_TIME_HINT if not any_dated(service.store) else "none of this topic's documents has a time"


@topics_app.command("trend")
def trend(topic_id: Annotated[int, typer.Argument(help="Topic id.")], interval: IntervalOpt = "day",
          scope: ScopeOpt = None, as_json: JsonOpt = False) -> None:
    """Counts and negative share per day or week."""
    with _service(scope) as service:
        series = service.topics.trend(topic_id, interval)
        why = _why_no_trend(service) if not series else None
    if as_json:
        emit_json(series)
        if why:
            common.err_console.print(why, highlight=False, soft_wrap=True)
        return
    if why:
        common.console.print(f"no trend for topic {topic_id}: {why}", highlight=False, soft_wrap=True)
    for point in series:
        share = "" if point["negative_share"] is None else f"neg {point['negative_share']:.0%}"
        common.console.print(f"{point['period']}  {point['count']:>5}  {share}")


@topics_app.command("emerging")
def emerging(
    interval: IntervalOpt = "week",
    at: Annotated[str | None, typer.Option("--at", help="Judge as of this date (default: newest document).")] = None,
    baseline: Annotated[int, typer.Option("--baseline", help="Earlier periods that form the baseline.")] = 4,
    scope: ScopeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Topics whose volume or negative share rose beyond chance in the latest period.

    Volume: one-sided Poisson test against the baseline mean, p < 0.01, at least 5 documents and
    1.5 × the baseline. Negative share: two-proportion z ≥ 2.33 with at least 5 negative documents.
    """
    with _service(scope) as service:
        found = service.topics.emerging(interval=interval, at=parse_day(at), baseline_periods=baseline)
        dated = any_dated(service.store)
    if as_json:
        emit_json(found)
        if not dated:
            common.err_console.print(NO_TIME_HINT, highlight=False, soft_wrap=True)
        return
    if not dated:  # "no emerging topics" would read as "nothing is rising"; nothing could be measured
        common.console.print(f"cannot tell emerging topics: {NO_TIME_HINT}", highlight=False, soft_wrap=True)
    elif not found:
        common.console.print("no emerging topics")
    for item in found:
        common.console.print(f"{item['topic_id']:>4}  {item['label']}  {', '.join(item['reasons'])}: "
                             f"{item['count']} vs baseline {item['baseline_mean']}/period (p={item['p_value']:.1e})")


@topics_app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Option("--data", help="Labelled CSV, TSV, JSONL or XLSX file.")],
    text_col: Annotated[str, typer.Option("--text-col", help="Column holding the text.")],
    label_col: Annotated[str, typer.Option("--label-col", help="Column holding the reference label.")],
    sample: Annotated[int | None, typer.Option("--sample", help="Random sample of this many rows (seed 0).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cluster a labelled file with the default settings and score topics against the labels (NMI, ARI)."""
    from voc.topics.evaluate import evaluate as run_eval

    if not data.is_file():
        raise fail(f"no such file: {data}")
    try:
        result = run_eval(data, text_col, label_col, sample=sample, settings=open_service().settings)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json({key: result[key] for key in ("n", "n_topics", "outlier_share", "nmi", "ari", "seconds",
                                                "label_quality")})
        return
    common.console.print(f"n={result['n']} topics={result['n_topics']} outliers={result['outlier_share']:.1%} "
                         f"NMI={result['nmi']} ARI={result['ari']} label_quality={result['label_quality']} "
                         f"in {result['seconds']}s")
    for topic in result["topics"][:20]:
        common.console.print(f"  {topic['size']:>6}  {topic['label']}")


@topics_app.command("hierarchy")
def hierarchy(as_json: JsonOpt = False) -> None:
    """Which topics merge into which (average linkage on c-TF-IDF), closest pairs first."""
    with _service() as service:
        merges = service.topics.hierarchy()
        labels = {topic.id: topic.label for topic in service.topics.list_topics()}
    if as_json:
        emit_json(merges)
        return
    for merge in merges:
        named = [labels.get(int(child[1:]), child) if child.startswith("t") else child for child in merge["children"]]
        common.console.print(f"{merge['node']:>4} = {' + '.join(named)}  (distance {merge['distance']:.2f}, "
                             f"{len(merge['topics'])} topics)", highlight=False)
