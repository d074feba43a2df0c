"""A job's error message is bounded (issue 17, item 23c): a 5 MB header echoed into a job error was
returned by every `GET /v1/jobs/{id}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_support import api_env
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine

from api.jobs import MAX_ERROR_CHARS, JobFailed, JobRunner, ProgressFn, bounded_error


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=3 * MAX_ERROR_CHARS))
def test_bounded_error_keeps_short_messages_and_cuts_long_ones_with_a_marker(message: str) -> None:
    shown = bounded_error(message)
    if len(message) <= MAX_ERROR_CHARS:
        assert shown == message
    else:
        assert shown.startswith(message[:MAX_ERROR_CHARS]) and len(shown) <= MAX_ERROR_CHARS + 60
        assert f"{len(message) - MAX_ERROR_CHARS:,} more characters cut" in shown


def test_a_huge_job_error_is_stored_and_served_bounded(tmp_path: Path) -> None:
    huge = "header " + "列名" * 2_500_000  # 5 MB of text, as a header-less CSV echoed its first row

    def work(_progress: ProgressFn) -> dict[str, Any]:
        raise JobFailed(f"cannot read the file: {huge}")

    jobs = JobRunner(create_engine(f"sqlite:///{tmp_path / 'jobs.sqlite'}"))
    try:
        job = jobs.wait(jobs.submit("ingest", None, work))
        assert job is not None and job.status == "failed" and job.error is not None
        assert job.error.startswith("cannot read the file: header 列名") and len(job.error) < 600
        assert "more characters cut" in job.error
    finally:
        jobs.shutdown()

    with api_env(tmp_path / "api", corpus=False) as env:
        runner = env.app.state.voc_api.jobs
        job_id = runner.submit("ingest", None, work)
        runner.wait(job_id)
        response = env.client.get(f"/v1/jobs/{job_id}", headers=env.headers("admin"))
        assert response.status_code == 200 and len(response.content) < 2_000
        assert response.json()["error"].endswith("more characters cut]")
