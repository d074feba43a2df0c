from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from voc.ingest.encoding import UnreadableFileError, detect_encoding
from voc.ingest.readers import read_records

ROWS = [("1", "這個產品的質量很好，門市店員很親切"), ("2", "物流太慢了，客服也不回覆訊息")]
SIMPLIFIED = [("1", "外卖送得太慢了，汤都洒了"), ("2", "骑手态度很好，包装也很用心")]


def write_csv(path: Path, rows: list[tuple[str, str]], encoding: str, sep: str = ",") -> Path:
    lines = [f"id{sep}text"] + [f"{i}{sep}{t}" for i, t in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "rows", "expected"),
    [
        ("utf-8", SIMPLIFIED, "utf-8"),
        ("utf-8-sig", SIMPLIFIED, "utf-8-sig"),
        ("gbk", SIMPLIFIED, "gb18030"),
        ("big5", ROWS, "big5hkscs"),
    ],
)
def test_encodings_detected_and_decoded(tmp_path: Path, encoding: str, rows: list, expected: str) -> None:
    path = write_csv(tmp_path / "f.csv", rows * 5, encoding)
    assert detect_encoding(path) == expected
    records = list(read_records(path))
    assert [r.values["text"] for r in records] == [t for _, t in rows * 5]
    assert records[0].values.keys() == {"id", "text"}  # BOM never leaks into the first header


def test_row_numbers_match_what_a_spreadsheet_shows(tmp_path: Path) -> None:
    path = tmp_path / "f.tsv"
    path.write_text('id\ttext\n1\t第一行\n\n2\t"跨行的\n内容"\n3\t第三条\n', encoding="utf-8")
    records = list(read_records(path))
    # the blank line is spreadsheet row 3; the quoted two-line cell is one row
    assert [(r.row, r.values["id"]) for r in records] == [(2, "1"), (4, "2"), (5, "3")]
    assert records[1].values["text"] == "跨行的\n内容"


def test_jsonl_reports_bad_lines_as_row_problems(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text(json.dumps({"text": "好"}, ensure_ascii=False) + "\n{broken\n[1,2]\n", encoding="utf-8")
    records = list(read_records(path))
    assert records[0].problem is None and records[0].values == {"text": "好"}
    assert records[1].row == 2 and "invalid JSON" in (records[1].problem or "")
    assert records[2].row == 3 and "JSON object" in (records[2].problem or "")


def test_xlsx_rows_and_types(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["编号", "回答", "评分", "时间"])
    sheet.append([1, "服务很好", 9, datetime(2026, 9, 1, 10, 0)])
    sheet.append([None, None, None, None])
    sheet.append([2, "排队太久", 3.0, "2026/9/2"])
    path = tmp_path / "f.xlsx"
    book.save(path)
    records = list(read_records(path))
    assert [r.row for r in records] == [2, 4]
    assert records[0].values == {"编号": 1, "回答": "服务很好", "评分": 9, "时间": datetime(2026, 9, 1, 10, 0)}
    assert records[1].values["评分"] == 3


def test_unreadable_files_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        list(read_records(tmp_path / "missing.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="empty"):
        list(read_records(empty))
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFileError, match="XLSX"):
        list(read_records(broken))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"id,text\n" + bytes(range(128, 256)) * 50)
    with pytest.raises(UnreadableFileError):
        list(read_records(binary))
    with pytest.raises(UnreadableFileError, match="--format"):
        list(read_records(write_csv(tmp_path / "f.dat", SIMPLIFIED, "utf-8")))
