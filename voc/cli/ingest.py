"""`voc ingest FILE --source KIND`: store a file's documents, then bring the search index up to date.

Exit codes say what the store holds afterwards, so a script knows what to do next:

- 0: stored and indexed;
- 2: bad input (unreadable file, unknown source or format, missing column): nothing stored;
- 3: stored, but the search index is behind (unreachable, failing): run `voc index sync` later;
- 4: the document store refused the write (busy beyond its wait, disk full, read-only): what the run
  stored is taken back where the store allows, and running the same command again completes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail, open_service, progress_bar
from voc.ingest.encoding import UnreadableFileError, detect_encoding
from voc.ingest.readers import FORMATS, detect_format
from voc.ingest.records import ColumnOptions
from voc.ingest.runner import IndexBehind, IngestInterrupted, IngestReport

EXIT_BAD_INPUT = 2
EXIT_INDEX_BEHIND = 3
EXIT_STORE_UNAVAILABLE = 4
EXIT_INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


def ingest_command(
    path: Annotated[Path, typer.Argument(help="CSV, TSV, JSONL or XLSX export.")],
    source: Annotated[str, typer.Option("--source", help="survey, hotline or review.")],
    fmt: Annotated[str | None, typer.Option("--format", help=f"One of {', '.join(FORMATS)}; default from the "
                                            "file extension.")] = None,
    text_col: Annotated[str | None, typer.Option("--text-col", help="Column holding the text.")] = None,
    id_col: Annotated[str | None, typer.Option("--id-col", help="Column holding the external id.")] = None,
    time_col: Annotated[str | None, typer.Option("--time-col", help="Column holding the time.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ingest a file of survey answers, hotline calls or reviews (any common Chinese encoding).

    Re-ingesting adds nothing; bad rows go to a rejects file. Exit 2: unreadable file, nothing stored.
    Exit 3: stored, but the search index is behind (run `voc index sync`). Exit 4: the store refused
    the write (busy, full, read-only); run it again.
    """
    service = open_service()
    try:
        with progress_bar(f"ingest {path.name}", None, enabled=not as_json) as advance:
            report = service.ingest(path, source, fmt=fmt,
                                    options=ColumnOptions(text_col=text_col, id_col=id_col, time_col=time_col),
                                    progress=advance)
    except UnreadableFileError as exc:
        raise fail(str(exc), EXIT_BAD_INPUT) from None
    except IngestInterrupted as exc:
        # one line instead of a traceback: what is kept and how to go on
        stored = exc.report
        raise fail(f"interrupted: kept {stored.accepted} new documents of {path} ({stored.duplicates} already "
                   "stored); run the same command again to store the rest (nothing is stored twice)",
                   EXIT_INTERRUPTED) from None
    except KeyboardInterrupt:  # before the first batch, or while indexing what is already stored
        raise fail("interrupted; run the same command again to finish (nothing is stored twice)",
                   EXIT_INTERRUPTED) from None
    except IndexBehind as exc:
        _print_report(exc.report, as_json, index_behind=str(exc))
        raise fail(str(exc), EXIT_INDEX_BEHIND) from None
    except OperationalError as exc:
        raise fail(f"the document store refused the write ({_first_line(exc.orig)}); run the same command "
                   "again: it stores what is missing and nothing twice", EXIT_STORE_UNAVAILABLE) from None
    finally:
        service.close()
    _print_report(report, as_json, encoding=_encoding(path, fmt))


def _encoding(path: Path, fmt: str | None) -> str | None:
    """The codec the file was read with (an XLSX workbook has none: it is always UTF-8 XML inside)."""
    try:
        return None if detect_format(path, fmt) == "xlsx" else detect_encoding(path)
    except (OSError, UnreadableFileError, ValueError):
        return None


def _first_line(error: BaseException | None) -> str:
    """The database's own words (\"database is locked\"), never SQLAlchemy's text, which quotes the
    statement and its parameters: document text."""
    return (str(error) or type(error).__name__).splitlines()[0][:200] if error is not None else "unknown error"


def _print_report(report: IngestReport, as_json: bool, index_behind: str | None = None,
                  encoding: str | None = None) -> None:
    if as_json:
        emit_json(report.summary() | {"near_duplicates": report.near_duplicates, "encoding": encoding}
                  | ({"index_behind": index_behind} if index_behind else {}))
        return
    read_as = f", read as {encoding}" if encoding else ""
    common.console.print(
        f"accepted {report.accepted}, duplicates {report.duplicates}, rejected {report.rejected}"
        f" (near-duplicates flagged: {report.near_duplicates}) in {report.seconds:.1f}s{read_as}", highlight=False)
    if report.rejects_file:
        # soft_wrap: a path broken over two lines cannot be copied into the next command
        common.console.print(f"rejected rows and reasons: {report.rejects_file}", highlight=False, soft_wrap=True)
