"""The saved topic models: one file per build, and ``model.joblib`` pointing at the committed build's.

A build cannot commit a file and database rows in one transaction, so it writes its model first,
under a name that carries its build id (``model-12.joblib``), then commits topics, assignments and
"build 12 is done" together; only then is ``model.joblib`` (a symbolic link, swapped with one atomic
rename) pointed at ``model-12.joblib``. The database says which build is current; :func:`publish`
makes the link agree with it, whatever point a killed build reached:

- killed before its commit: the database still names the previous build, the link still points at
  its model, and the dead build's file is removed;
- killed after its commit: the link still points at the previous model; ``publish`` moves it on.

Readers (the pipeline's topic stage) open ``model.joblib`` and follow the link.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import Any

import joblib

log = logging.getLogger(__name__)

PUBLISHED_NAME = "model.joblib"
_BUILD_FILE_RE = re.compile(r"^model-(\d+)(?:\.joblib|-.*\.tmp)$")


def build_model_path(directory: Path, build_id: int) -> Path:
    return directory / f"model-{build_id}.joblib"


def save_build_model(directory: Path, build_id: int, bundle: dict[str, Any]) -> Path:
    """Write one build's model completely (temporary name, then rename) before the build commits."""
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f"model-{build_id}-", suffix=".tmp")
    os.close(handle)
    target = build_model_path(directory, build_id)
    joblib.dump(bundle, temporary)
    os.replace(temporary, target)
    return target


def published_build_id(directory: Path) -> int | None:
    """The build whose model ``model.joblib`` points at, read from the link (no model is loaded)."""
    link = directory / PUBLISHED_NAME
    if not link.is_symlink():
        return None
    match = _BUILD_FILE_RE.match(os.readlink(link))
    return int(match.group(1)) if match else None


def publish(directory: Path, current: int | None, keep: Collection[int]) -> None:
    """Point ``model.joblib`` at the model of build ``current`` (the newest committed build) and remove
    the model files of builds not in ``keep`` (failed and superseded builds; ``keep`` holds running
    builds, whose files are still being written, and the previous build, which a reader may be opening)."""
    if not directory.is_dir():
        return
    link = directory / PUBLISHED_NAME
    _adopt_unlinked_model(link, current)
    if published_build_id(directory) != current:
        target = build_model_path(directory, current) if current is not None else None
        if target is not None and target.exists():
            _point(link, target.name)
        elif link.exists() or link.is_symlink():
            # no model of the committed build exists: new documents get no topic rather than a wrong one
            log.warning("topic model of build %s missing: new documents get topics after the next build", current)
            link.unlink()
    for path in directory.iterdir():
        match = _BUILD_FILE_RE.match(path.name)
        if match and int(match.group(1)) not in {*keep, current}:
            path.unlink(missing_ok=True)


def _point(link: Path, target_name: str) -> None:
    temporary = link.with_name(f".{link.name}.{os.getpid()}.link")
    temporary.unlink(missing_ok=True)
    os.symlink(target_name, temporary)
    os.replace(temporary, link)  # readers see the old model or the new one, never no model


def _adopt_unlinked_model(link: Path, current: int | None) -> None:
    """A plain ``model.joblib`` (saved by a voc version without build files) becomes its build's file,
    if that build is the committed one; otherwise it is a model no committed build stands behind."""
    if not link.exists() or link.is_symlink():
        return
    build_id = joblib.load(link).get("build_id")
    if build_id is not None and build_id == current:
        os.replace(link, build_model_path(link.parent, build_id))
    else:
        log.warning("topic model of uncommitted build %s removed", build_id)
        link.unlink()
