"""What drives the score: impact of each topic or indicator on NPS, survey score, rating or sentiment, and
key-driver importance. See :func:`compute_drivers`."""

from voc.drivers.analysis import MIN_MENTIONS, MIN_RESPONSES, DriverAnalysis, analyse, compute_drivers
from voc.drivers.frame import GROUPINGS, DriverError, Theme, ThemeFrame, load_frame
from voc.drivers.metrics import METRIC_NAMES, METRICS, nps, nps_values

__all__ = ["GROUPINGS", "METRICS", "METRIC_NAMES", "MIN_MENTIONS", "MIN_RESPONSES", "DriverAnalysis", "DriverError",
           "Theme", "ThemeFrame", "analyse", "compute_drivers", "load_frame", "nps", "nps_values"]
