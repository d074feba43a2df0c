"""`voc indicators learn`: teach the indicators of the current tree from labelled examples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voc.cli import common
from voc.cli.common import JsonOpt, emit_json, fail
from voc.cli.indicators import _service


def learn_command(
    path: Annotated[Path | None, typer.Argument(help="CSV, TSV, JSONL or XLSX: a text column and an indicator "
                                                "column (ids or names, several separated by ; , 、 |).")] = None,
    text_column: Annotated[str | None, typer.Option("--text-col", help="The text column (default: text/文本/内容).")]
    = None,
    label_column: Annotated[str | None, typer.Option("--indicator-col", help="The indicator column (default: "
                                                     "indicator/指标/标签).")] = None,
    forget: Annotated[bool, typer.Option("--forget", help="Drop the learned model instead (mapping goes back "
                                         "to keywords, aspects and rules).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Learn the indicators from labelled examples: each indicator with 5 or more examples gets a model,
    joined to keyword evidence by a calibration learned on the public benchmarks; every document is
    mapped again. Rejected rows are listed with their row number and reason (exit 0 when some rows
    were used; exit 2 when none could be)."""
    from voc.indicators.examples import ExampleFileError
    from voc.ingest.readers import UnreadableFileError

    if (path is None) == (not forget):
        raise fail("give a FILE of examples, or --forget")
    with _service() as svc:
        if forget:
            dropped = svc.forget_examples()
            result = {"forgotten": dropped}
        else:
            try:
                result = svc.learn_examples(path, text_column, label_column)
            except (ExampleFileError, UnreadableFileError) as exc:
                raise fail(str(exc)) from None
    if as_json:
        emit_json(result)
        return
    if forget:
        common.console.print("learned model dropped" if result["forgotten"] else "no learned model", highlight=False)
        return
    common.console.print(f"learned {len(result['learned'])} indicators from {result['examples']} examples "
                         f"({result['rejected']} rows rejected); mapped {result['mapping'].get('mapped', 0)} "
                         "documents again", highlight=False)
    for item in result["rejected_rows"][:10]:
        common.console.print(f"  row {item['row']}: {item['reason']}", highlight=False)
    if result["too_few"]:
        common.console.print("too few examples (need 5): " + ", ".join(result["too_few"]), highlight=False)
