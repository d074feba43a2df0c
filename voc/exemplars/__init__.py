"""Indicators learned from labelled examples, and the calibrated way their evidence joins keywords.

``train_exemplars(featurise(texts, segment), labels, indicator_ids)`` gives an ``ExemplarModel``
(one head per indicator with enough examples); ``Calibration`` turns a term hit, an aspect hit and
a head's probability into one mapping probability with a learned threshold. The indicator mapper
(``voc.indicators.mapping.Mapper``) uses both when a model has been learned for the tree.
"""

from voc.exemplars.calibration import FEATURES, Calibration, default_calibration_path
from voc.exemplars.model import MIN_EXAMPLES, ExemplarModel, featurise, train_exemplars

__all__ = ["FEATURES", "MIN_EXAMPLES", "Calibration", "ExemplarModel", "default_calibration_path", "featurise",
           "train_exemplars"]
