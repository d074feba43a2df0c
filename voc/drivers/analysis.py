"""What drives the score: impact by removal per theme, and key-driver importance, over one population.

    analysis = compute_drivers(voc.store.engine, Filters(source=["survey"]), metric="nps", by="topic")
    analysis.to_dict()  # plain data: the CLI's --json, the API's response

Below ``min_responses`` documents carrying the metric the answer is "not enough data" in words, never a
number; below ``min_mentions`` a theme gets no impact of its own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine

from indexing import Filters
from voc.drivers.frame import DriverError, Grouping, ThemeFrame, load_frame
from voc.drivers.impact import Impacts, impacts
from voc.drivers.keydrivers import TOP_THEMES, key_drivers
from voc.drivers.metrics import METRIC_NAMES, METRICS, Metric
from voc.drivers.resample import CONFIDENCE

MIN_RESPONSES = 30  # documents carrying the metric, below which no overall figure is given
MIN_MENTIONS = 10  # documents mentioning a theme, below which it gets no impact of its own
RESAMPLES = 1000  # bootstrap resamples of the impacts
MODEL_RESAMPLES = 200  # of the regression (a fit per resample)
NOT_SCORED = ("sentiment is read from the same texts as the themes' polarity: a regression of it on them would "
              "explain the text with itself, so key-driver importance is given for nps, score and rating only")
NO_SCORE_SOURCES = {"hotline": "hotline calls carry neither a survey score nor a star rating"}


@dataclass(slots=True)
class DriverAnalysis:
    metric: str
    by: str
    status: str  # ok | not_enough_data | no_metric
    message: str | None
    overall: dict[str, Any] | None
    population: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    key_drivers: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)

    def top(self, k: int = 5, *, costs: bool = True) -> list[dict[str, Any]]:
        """The ``k`` themes costing the most (``costs``) or adding the most, with a computed impact."""
        computed = [d for d in self.drivers if d["impact"] is not None]
        computed.sort(key=lambda d: d["impact"], reverse=not costs)
        return [d for d in computed if (d["impact"] < 0 if costs else d["impact"] > 0)][:k]

    def to_dict(self) -> dict[str, Any]:
        return {name.name: getattr(self, name.name) for name in fields(self)}


def describe_filters(filters: Filters) -> dict[str, Any]:
    """The filters that are set, as JSON-ready data."""
    out: dict[str, Any] = {}
    for item in fields(filters):
        value = getattr(filters, item.name)
        if value is None or value == [] or value is False:
            continue
        out[item.name] = value.isoformat() if isinstance(value, datetime) else value
    if "ids" in out:
        out["ids"] = len(out["ids"])  # how many, not a list that may run to thousands
    return out


def _num(value: float | np.floating[Any], digits: int = 3) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else round(value, digits)


def _population(frame: ThemeFrame, has: np.ndarray, metric: Metric) -> tuple[dict[str, Any], list[str]]:
    documents = Counter(frame.source.tolist())
    carrying = Counter(frame.source[has].tolist())
    by_source = {source: {"documents": count, "with_metric": carrying.get(source, 0)}
                 for source, count in sorted(documents.items())}
    notes = []
    for source, counts in by_source.items():
        missing = counts["documents"] - counts["with_metric"]
        if not missing:
            continue
        why = NO_SCORE_SOURCES.get(source) if metric.scored else None
        notes.append(f"{source}: {missing} of {counts['documents']} documents carry no {metric.carrier} and are "
                     f"left out" + (f" ({why})" if why else ""))
    population = {"documents": len(frame), "with_metric": int(has.sum()), "by_source": by_source,
                  "near_duplicates_left_out": frame.near_duplicates}
    return population, notes


def analyse(frame: ThemeFrame, metric_name: str, by: str, *, min_responses: int = MIN_RESPONSES,
            min_mentions: int = MIN_MENTIONS, resamples: int = RESAMPLES, model_resamples: int = MODEL_RESAMPLES,
            seed: int = 0, top_themes: int = TOP_THEMES,
            progress: Callable[[str], None] | None = None) -> DriverAnalysis:
    """The analysis of an already loaded population (see :func:`compute_drivers`)."""
    if metric_name not in METRICS:
        raise DriverError(f"unknown metric {metric_name!r}; use one of {', '.join(METRIC_NAMES)}")
    metric = METRICS[metric_name]
    values = metric.values(frame)
    has = ~np.isnan(values)
    population, notes = _population(frame, has, metric)
    settings = {"resamples": resamples, "model_resamples": model_resamples, "seed": seed, "confidence": CONFIDENCE,
                "min_responses": min_responses, "min_mentions": min_mentions, "top_themes": top_themes}
    result = DriverAnalysis(metric=metric.name, by=by, status="ok", message=None, overall=None,
                            population=population, notes=[*notes, *frame.notes], settings=settings)
    count = int(has.sum())
    if not len(frame):
        result.status = "no_metric"
        result.message = "no documents match these filters"
        return result
    if count == 0:
        result.status = "no_metric"
        why = ("surveys carry a score, reviews a star rating, hotline calls neither" if metric.scored else
               "these documents were stored without the sentiment stage")
        result.message = (f"no document here carries a {metric.carrier}, so there is no {metric.title} to "
                          f"explain ({why})")
        return result
    if count < min_responses:
        result.status = "not_enough_data"
        result.message = (f"not enough data: {count} documents carry a {metric.carrier}; at least {min_responses} "
                          f"are needed for a {metric.title} worth reading")
        return result
    rows = np.flatnonzero(has)
    y = values[rows]
    present, negative = frame.present[rows], frame.negative[rows]
    if progress:
        progress("impacts")
    found = impacts(present, y, resamples=resamples, seed=seed)
    result.overall = {"value": _num(found.overall), "low": _num(found.overall_low), "high": _num(found.overall_high),
                      "n": found.n, "title": metric.title, "unit": metric.unit}
    negative_volume = np.asarray(negative.sum(axis=0)).ravel()
    result.drivers = _drivers(frame, found, negative_volume, min_mentions)
    if not result.drivers:
        result.notes.append(f"no document carrying a {metric.carrier} mentions any {by}")
    if not metric.scored:
        result.key_drivers = {"status": "not_applicable", "message": NOT_SCORED}
        return result
    if progress:
        progress("key drivers")
    result.key_drivers = _key_drivers(frame, present, negative, y, found.volume, min_mentions=min_mentions,
                                      top=top_themes, resamples=model_resamples, seed=seed)
    return result


def _drivers(frame: ThemeFrame, found: Impacts, negative_volume: np.ndarray, min_mentions: int) -> list[dict[str, Any]]:
    drivers = []
    for j, theme in enumerate(frame.themes):
        volume = int(found.volume[j])
        if volume == 0:
            continue
        item: dict[str, Any] = {
            "key": theme.key, "label": theme.label, "volume": volume, "share": _num(volume / found.n, 4),
            "negative_volume": int(negative_volume[j]), "metric_with": _num(found.mean_with[j]),
            "impact": None, "low": None, "high": None, "status": "ok", "message": None}
        if volume < min_mentions:
            item.update(status="not_enough_data",
                        message=f"not enough data: {volume} mention{'s' * (volume != 1)}; at least {min_mentions} "
                                "are needed")
        elif volume == found.n:
            item.update(status="not_enough_data",
                        message="every document mentions it: nothing is left to compare with")
        else:
            item.update(impact=_num(found.impact[j]), low=_num(found.low[j]), high=_num(found.high[j]))
        drivers.append(item)
    # the largest effects first, either sign; themes without an impact of their own last, largest first
    drivers.sort(key=lambda d: (d["impact"] is None, -abs(d["impact"] or 0), -d["volume"]))
    return drivers


def _key_drivers(frame: ThemeFrame, present: Any, negative: Any, y: np.ndarray, volume: np.ndarray, *,
                 min_mentions: int, top: int, resamples: int, seed: int) -> dict[str, Any]:
    model = key_drivers(present, negative, y, volume, min_volume=min_mentions, top=top, resamples=resamples,
                        seed=seed)
    columns = model.columns
    if not columns.owner:
        return {"status": "no_themes", "message": f"no theme has at least {min_mentions} mentions to regress on"}
    total = float(model.point.weights.sum()) or 1.0
    themes = []
    for owner in sorted(model.theme_weight, key=lambda o: -model.theme_weight[o]):
        if owner == -1:
            grouped = int((volume > 0).sum()) - sum(1 for o in model.theme_weight if o >= 0)
            key, label = "other", f"other themes ({grouped})"
        else:
            key, label = frame.themes[owner].key, frame.themes[owner].label
        item: dict[str, Any] = {
            "key": key, "label": label, "importance": _num(model.theme_weight[owner], 4),
            "low": _num(model.theme_low[owner], 4), "high": _num(model.theme_high[owner], 4),
            "share_of_r2": _num(model.theme_weight[owner] / total, 4)}
        for k, (col_owner, kind) in enumerate(zip(columns.owner, columns.kind, strict=True)):
            if col_owner != owner:
                continue
            name = "negative_effect" if kind == "negative" else "effect"
            item[name] = _num(model.point.effects[k])
            item[f"{name}_low"] = _num(model.effect_low[k])
            item[f"{name}_high"] = _num(model.effect_high[k])
        themes.append(item)
    return {"status": "ok", "message": None, "n": model.n, "r2": _num(model.point.r2, 4),
            "r2_low": _num(model.r2_low, 4), "r2_high": _num(model.r2_high, 4),
            "method": "ridge regression on theme presence and negative mention; importance = relative weights "
                      "(Johnson), each theme's share of R²",
            "themes": themes}


def compute_drivers(engine: Engine, filters: Filters | None = None, *, metric: str = "nps", by: Grouping = "topic",
                    indicator_version: int | None = None, progress: Callable[[str], None] | None = None,
                    **options: Any) -> DriverAnalysis:
    """Load the population ``filters`` select from the store and analyse it (options: see :func:`analyse`)."""
    if metric not in METRICS:
        raise DriverError(f"unknown metric {metric!r}; use one of {', '.join(METRIC_NAMES)}")
    filters = filters or Filters()
    if progress:
        progress("loading documents")
    frame = load_frame(engine, filters, by, indicator_version=indicator_version)
    result = analyse(frame, metric, by, progress=progress, **options)
    result.filters = describe_filters(filters)
    return result
