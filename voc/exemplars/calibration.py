"""How keyword evidence and an exemplar head's probability combine into one mapping decision.

A logistic model over three features of a (document, indicator) pair: a term hit (name, keyword or
synonym in some clause), an aspect hit (a tagged aspect of the indicator's category) and the
exemplar head's probability for the document. Its weights and the decision threshold are learned on
the public mapping benchmarks (``models.mapping.calibrate``: out-of-fold exemplar probabilities on
the train parts of bdci2018 car and zhijiang cosmetics), never set by hand, and shipped as
``models/mapping/calibration.json``. The same weights serve every tree: they say how much a keyword
hit is worth against examples, not anything about one indicator.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

FEATURES = ("term_hit", "aspect_hit", "exemplar_probability")


@dataclass(frozen=True, slots=True)
class Calibration:
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: str = ""

    def probability(self, term_hit: bool, aspect_hit: bool, exemplar_probability: float) -> float:
        values = (float(term_hit), float(aspect_hit), exemplar_probability)
        z = self.bias + sum(w * v for w, v in zip(self.weights, values, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps({"features": FEATURES, **asdict(self)}, ensure_ascii=False, indent=2),
                        encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path}: calibration features {data['features']} are not {FEATURES}")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]), float(data["threshold"]),
                   str(data.get("fitted_on", "")))


def default_calibration_path() -> Path:
    return Path(str(resources.files("models") / "mapping" / "calibration.json"))
