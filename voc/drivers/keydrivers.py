"""Key-driver importance: the metric regressed on theme presence and negative mention.

Two readings of one weighted fit, both from the same sufficient statistics (so every bootstrap resample
is a few p x p operations, p <= 2 x TOP_THEMES + 1):

- effects: ridge regression of the per-document metric on 0/1 columns (mentions the theme; mentions it
  negatively), in metric points: "a document mentioning slow delivery negatively scores 40 NPS points
  lower, other themes held equal". The ridge keeps collinear themes (always raised together) stable.
- importance: relative weights (Johnson 2000), each column's share of R^2 from the orthogonal
  counterpart of the correlation matrix; a theme's importance is the sum over its columns. Unlike raw
  coefficients they add up to R^2 and do not flip when two themes are correlated.

Only the TOP_THEMES largest themes get columns; the rest form one "other themes" column, so the model
stays small and its intervals meaningful.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from voc.drivers.resample import Patterns, compress, interval, resample_weights

TOP_THEMES = 15
RIDGE_ALPHA = 1.0  # in document units (sum of squares): negligible at real volumes, decisive for collinear columns
SPARSE_FROM = 200_000  # pattern cells from which the fits use sparse cross-products
EIGEN_FLOOR = 1e-8  # relative weights on a (near) singular correlation matrix: themes always raised together


@dataclass(slots=True)
class Fit:
    effects: np.ndarray  # (p,) ridge coefficients in metric points
    weights: np.ndarray  # (p,) relative weights, summing to R^2
    r2: float  # ridge R^2


@dataclass(slots=True)
class Columns:
    """The regressors: column j belongs to theme ``owner[j]`` (-1: "other themes") and is a presence or a
    negative-mention column."""

    matrix: sparse.csr_matrix
    owner: list[int] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)  # presence | negative | other


def build_columns(present: sparse.csr_matrix, negative: sparse.csr_matrix, chosen: list[int],
                  rest: list[int]) -> Columns:
    """Presence and negative-mention columns of the chosen themes, one "any other theme" column; columns
    that never vary, or repeat the presence column (a theme only ever raised negatively), are left out."""
    blocks, owner, kind = [], [], []
    n = present.shape[0]
    for j in chosen:
        pres, neg = present[:, j], negative[:, j]
        if 0 < pres.nnz < n:
            blocks.append(pres)
            owner.append(j)
            kind.append("presence")
        if 0 < neg.nnz < n and neg.nnz != pres.nnz:
            blocks.append(neg)
            owner.append(j)
            kind.append("negative")
    if rest:
        other = (present[:, rest].sum(axis=1) > 0).astype(np.int8)
        other = sparse.csr_matrix(other)
        if 0 < other.nnz < n:
            blocks.append(other)
            owner.append(-1)
            kind.append("other")
    matrix = sparse.hstack(blocks, format="csr") if blocks else sparse.csr_matrix((n, 0))
    return Columns(matrix=matrix, owner=owner, kind=kind)


def fit(x: np.ndarray | sparse.spmatrix, y: np.ndarray, w: np.ndarray, alpha: float = RIDGE_ALPHA) -> Fit:
    """Weighted ridge and relative weights of y on the columns of x (w: documents per row).

    Raw cross-products, then centred: on a sparse ``x`` (a document mentions few themes) a fit costs what
    the mentions cost, not rows x columns squared."""
    total = w.sum()
    sx = x.T @ w
    sy = float(w @ y)
    if sparse.issparse(x):
        weighted = sparse.csr_matrix(x.multiply(w[:, None]))
        raw = (x.T @ weighted).toarray()
    else:
        weighted = x * w[:, None]
        raw = x.T @ weighted
    sxx = raw - np.outer(sx, sx) / total
    sxy = weighted.T @ y - sx * sy / total
    syy = float(w @ (y * y)) - sy * sy / total
    p = x.shape[1]
    if syy <= 1e-9 * max(total, 1.0) or p == 0:
        return Fit(np.zeros(p), np.zeros(p), 0.0)
    effects = np.linalg.solve(sxx + alpha * np.eye(p), sxy)
    sse = syy - 2 * effects @ sxy + effects @ sxx @ effects
    constant = np.diag(sxx) <= 1e-9 * total  # a theme no document of this resample mentions (or all do)
    sd = np.sqrt(np.where(constant, 1.0, np.diag(sxx)))
    corr = sxx / np.outer(sd, sd)
    corr[constant, :] = corr[:, constant] = 0.0
    corr[constant, constant] = 1.0  # uncorrelated with everything: no part of R^2
    r_xy = sxy / (sd * np.sqrt(syy))
    values, vectors = np.linalg.eigh(corr)
    values = np.maximum(values, EIGEN_FLOOR)
    half = (vectors * np.sqrt(values)) @ vectors.T  # the correlations of x with its orthogonal counterpart
    beta = (vectors / np.sqrt(values)) @ vectors.T @ r_xy  # y on the orthogonal counterpart
    weights = (half ** 2) @ (beta ** 2)
    return Fit(effects=effects, weights=weights, r2=float(max(0.0, 1 - sse / syy)))


@dataclass(slots=True)
class KeyDrivers:
    columns: Columns
    point: Fit
    effect_low: np.ndarray
    effect_high: np.ndarray
    weight_low: np.ndarray  # per column
    weight_high: np.ndarray
    theme_weight: dict[int, float]  # per owner (-1: other themes): the sum over its columns
    theme_low: dict[int, float]
    theme_high: dict[int, float]
    r2_low: float
    r2_high: float
    n: int


def key_drivers(present: sparse.csr_matrix, negative: sparse.csr_matrix, y: np.ndarray, volume: np.ndarray,
                *, min_volume: int, top: int = TOP_THEMES, resamples: int = 500, seed: int = 0) -> KeyDrivers:
    """Fit on the ``top`` largest themes with at least ``min_volume`` mentions; bootstrap intervals."""
    eligible = [j for j in np.argsort(-volume, kind="stable") if volume[j] >= min_volume]
    chosen = [int(j) for j in eligible[:top]]
    rest = [j for j in range(len(volume)) if j not in set(chosen) and volume[j] > 0]
    columns = build_columns(present, negative, chosen, rest)
    if not columns.owner:  # no theme varies here: nothing to regress on
        empty = np.zeros(0)
        return KeyDrivers(columns, Fit(empty, empty, 0.0), empty, empty, empty, empty, {}, {}, {}, 0.0, 0.0, len(y))
    patterns: Patterns = compress(columns.matrix, y)
    # sparse pays off once the patterns are many (indicators: tens of thousands); a few hundred stay dense
    x: np.ndarray | sparse.csr_matrix = sparse.csr_matrix(patterns.x) if patterns.x.size > SPARSE_FROM else patterns.x
    point = fit(x, patterns.y, patterns.counts)
    owners = sorted(set(columns.owner))
    effect_draws, weight_draws, r2_draws = [], [], []
    # one BLAS thread: on matrices this small, thread hand-offs cost 20x the work (15 ms an eigh, not 0.7)
    with threadpool_limits(limits=1, user_api="blas"):
        for batch in resample_weights(patterns, resamples, seed + 1):
            for weights in batch:
                draw = fit(x, patterns.y, weights)
                effect_draws.append(draw.effects)
                weight_draws.append(draw.weights)
                r2_draws.append(draw.r2)
    effects = np.array(effect_draws).reshape(-1, len(columns.owner))
    weights = np.array(weight_draws).reshape(-1, len(columns.owner))
    owner = np.array(columns.owner)
    per_theme = np.column_stack([weights[:, owner == o].sum(axis=1) for o in owners]) if owners else weights
    point_theme = np.array([point.weights[owner == o].sum() for o in owners])
    theme_low, theme_high = interval(per_theme) if len(per_theme) else (point_theme, point_theme)  # no resamples
    effect_low, effect_high = interval(effects) if len(effects) else (point.effects, point.effects)
    weight_low, weight_high = interval(weights) if len(weights) else (point.weights, point.weights)
    r2_low, r2_high = interval(np.array(r2_draws)) if r2_draws else (point.r2, point.r2)
    return KeyDrivers(
        columns=columns, point=point, effect_low=effect_low, effect_high=effect_high, weight_low=weight_low,
        weight_high=weight_high,
        theme_weight={o: float(point.weights[owner == o].sum()) for o in owners},
        theme_low={o: float(theme_low[k]) for k, o in enumerate(owners)},
        theme_high={o: float(theme_high[k]) for k, o in enumerate(owners)},
        r2_low=float(r2_low), r2_high=float(r2_high), n=patterns.n)
