"""Running the scheduled alert rules periodically inside a long-lived process (`voc serve`).

Off unless ``alerts_interval_seconds`` > 0; cron with `voc alerts run` is the other way. One daemon thread
waits on an event, so stopping is immediate and tests never sleep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, interval_s: float, work: Callable[[], object], name: str = "voc-alerts-schedule") -> None:
        self.interval_s = interval_s
        self._work = work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> Periodic:
        if self.interval_s > 0:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._work()
            except Exception:  # the next round tries again; the server keeps serving
                log.warning("scheduled alert evaluation failed", exc_info=True)
