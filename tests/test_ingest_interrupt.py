"""Ctrl-C during `voc ingest` (issue 21, item 5): the batches already committed stay, one line says what
was kept and how to resume, no worker prints a traceback, and the same command again stores the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from test_ingest_batched_commits import VOC, stored_count, voc_cli

from voc.ingest.runner import PARALLEL_MIN_BYTES

ROWS = 6_000


def test_ctrl_c_keeps_what_was_stored_and_a_rerun_resumes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # two workers (the file is large enough to go parallel) so a worker traceback would show
    env = {**os.environ, "VOC_HOME": str(home), "VOC_WORKERS": "2", "VOC_BATCH_SIZE": "50"}
    data = tmp_path / "long.csv"
    moods = ["排队太久了", "店员态度很好", "菜品分量足", "上菜速度慢", "环境干净整洁", "价格偏贵"]
    filler = "，".join(moods) * 4  # long rows: the file passes the size at which ingest goes parallel
    data.write_text("id,text\n" + "\n".join(f"r{i},第{i}号门店{moods[i % 6]}。{filler}" for i in range(ROWS)) + "\n",
                    encoding="utf-8")
    assert data.stat().st_size >= PARALLEL_MIN_BYTES
    # SIGINT back to its default in the child: a test run started in the background by a non-interactive
    # shell (nohup … &) has it ignored, and Python then never raises KeyboardInterrupt
    run = subprocess.Popen([*VOC, "ingest", str(data), "--source", "review"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while stored_count(home) < 200 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert run.poll() is None, run.communicate()
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        _, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    kept = stored_count(home)
    assert run.returncode == 130, err
    assert 0 < kept < ROWS
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0] and "run the same command again" in lines[0], err
    assert "Traceback" not in err

    rerun = voc_cli(env, "ingest", str(data), "--source", "review", "--json", timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["accepted"], summary["duplicates"]) == (ROWS - kept, kept)
    assert stored_count(home) == ROWS
