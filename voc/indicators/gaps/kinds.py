"""Two kinds of suggestion: words an existing indicator is missing, or a theme no indicator covers.

Each indicator gets a contextual centroid: the mean of its terms' contextual encoder vectors (the
terms as customers use them in this corpus). A candidate group whose centroid is at least
``KEYWORD_SIMILARITY`` from its nearest indicator's is a **keyword suggestion** for that indicator
(accept = merge: its words join the indicator in a new tree version); otherwise it is a
**new-indicator suggestion**. Without the encoder every group is a new-indicator suggestion.
"""

from __future__ import annotations

import numpy as np

from voc.indicators.gaps.collect import GapCollector
from voc.indicators.gaps.contextual import ContextualTerms
from voc.indicators.mapping import Mapper

# measured on cosmetics hide-k: keyword gaps at 0.63–0.69, real new themes 0.55–0.85; no bar separates
# them yet, so in practice every group is a new-indicator suggestion
KEYWORD_SIMILARITY = 0.9


def indicator_centroids(mapper: Mapper, collector: GapCollector, contextual: ContextualTerms) -> dict[str, np.ndarray]:
    vectors = contextual.vectors(dict(collector.indicator_contexts))
    out = {}
    for node_id, tokens in mapper.node_tokens.items():
        known = [vectors[t] for t in tokens if t in vectors]
        if known:
            centroid = np.mean(known, axis=0)
            out[node_id] = centroid / (np.linalg.norm(centroid) or 1.0)
    return out


def nearest_indicator(keywords: list[str], vectors: dict[str, np.ndarray],
                      centroids: dict[str, np.ndarray]) -> tuple[str | None, float]:
    known = [vectors[k] for k in keywords if k in vectors]
    if not known or not centroids:
        return None, 0.0
    centroid = np.mean(known, axis=0)
    centroid = centroid / (np.linalg.norm(centroid) or 1.0)
    node_id, similarity = max(((n, float(c @ centroid)) for n, c in centroids.items()), key=lambda x: x[1])
    return node_id, similarity
