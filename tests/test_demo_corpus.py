"""The packaged demo corpus: reproducible, in the declared encodings, and as dirty as documented."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from voc.demo import DEMO_FILES, EMERGING_ISSUES, INDUSTRIES, DemoFile, demo_data_dir
from voc.demo._util import id_check_char, luhn_valid
from voc.demo.generate import build

SIMPLIFIED_ONLY = set("这说们会买电话费还员态实网价钱门务觉么没应题讯号单乐东专业")
TRADITIONAL_ONLY = set("這說們會買電話費還員態實網價錢門務覺麼沒應題訊號單樂東專業")


@pytest.fixture(scope="module")
def built() -> dict[str, tuple[bytes, int, int]]:
    return build()


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict[str, object]]]:
    return {f.name: _read(f) for f in DEMO_FILES}


def _read(demo_file: DemoFile) -> list[dict[str, object]]:
    path = demo_data_dir() / demo_file.name
    if demo_file.format == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True).worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    text = path.read_bytes().decode(demo_file.encoding)
    if demo_file.format == "jsonl":
        return [json.loads(line) for line in text.splitlines()]
    delimiter = "\t" if demo_file.format == "tsv" else ","
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def _texts(demo_file: DemoFile, rows: list[dict[str, object]]) -> list[str]:
    if demo_file.text_col is None:
        return ["\n".join(str(t.get("text", t.get("content", ""))) for t in row["turns"]) for row in rows]
    return [str(row[demo_file.text_col] or "") for row in rows]


def test_regeneration_is_byte_identical(built: dict[str, tuple[bytes, int, int]]) -> None:
    for demo_file in DEMO_FILES:
        data, _, _ = built[demo_file.name]
        committed = (demo_data_dir() / demo_file.name).read_bytes()
        assert data == committed, f"{demo_file.name} differs: run python -m voc.demo.generate"


def test_counts_match_demo_files(built: dict[str, tuple[bytes, int, int]],
                                 records: dict[str, list[dict[str, object]]]) -> None:
    for demo_file in DEMO_FILES:
        _, rows, bad = built[demo_file.name]
        assert (rows, bad) == (demo_file.rows, demo_file.bad_rows), demo_file.name
        assert len(records[demo_file.name]) == demo_file.rows, demo_file.name
    assert 1_800 <= sum(f.rows for f in DEMO_FILES) <= 2_300
    assert 0.005 <= sum(f.bad_rows for f in DEMO_FILES) / sum(f.rows for f in DEMO_FILES) <= 0.02


def test_files_decode_in_their_declared_encoding_only() -> None:
    for demo_file in DEMO_FILES:
        raw = (demo_data_dir() / demo_file.name).read_bytes()
        if demo_file.format == "xlsx":
            assert raw[:2] == b"PK"
            continue
        raw.decode(demo_file.encoding)
        if demo_file.encoding == "utf-8-sig":
            assert raw.startswith(b"\xef\xbb\xbf")
        if demo_file.encoding in ("gbk", "big5"):
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")


def test_covers_all_industries_and_sources(records: dict[str, list[dict[str, object]]]) -> None:
    industries: Counter[str] = Counter()
    for demo_file in DEMO_FILES:
        column = "行业" if "行业" in records[demo_file.name][0] else "industry"
        industries.update(str(row[column]) for row in records[demo_file.name])
    assert set(industries) == set(INDUSTRIES)
    assert min(industries.values()) >= 100
    assert {f.source for f in DEMO_FILES} == {"survey", "hotline", "review"}


def test_pii_examples_are_valid(records: dict[str, list[dict[str, object]]]) -> None:
    everything = "\n".join(t for f in DEMO_FILES for t in _texts(f, records[f.name]))
    ids = [m for m in re.findall(r"(?<!\d)(\d{17}[\dX])(?!\d)", everything) if m[6:8] in ("19", "20")]
    assert len([i for i in ids if id_check_char(i[:17]) == i[17]]) >= 5
    cards = [m for m in re.findall(r"(?<!\d)(\d{16}|\d{19})(?!\d)", everything) if luhn_valid(m)]
    assert len(cards) >= 5
    assert len(re.findall(r"(?<!\d)1[3-9]\d-\d{4}-\d{4}(?!\d)", everything)) >= 3
    assert len(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", everything)) >= 20
    assert re.search(r"0\d{2,3}-\d{7,8}", everything)
    assert re.search(r"[\w.]+@(qq|163|126|sina|foxmail|gmail|outlook)\.com", everything)


def test_noise_is_present(records: dict[str, list[dict[str, object]]]) -> None:
    everything = "\n".join(t for f in DEMO_FILES for t in _texts(f, records[f.name]))
    for marker in ("&nbsp;", "&#183;", "！！！", "。。。。", "yyds", "😡", "虽然", "不是不好吃"):
        assert marker in everything, marker
    assert re.search(r"[０-９Ａ-Ｚａ-ｚ]", everything)
    assert max(len(t) for t in everything.split("\n")) > 20_000


def test_duplicates_and_spam(records: dict[str, list[dict[str, object]]]) -> None:
    exact = near = 0
    for demo_file in DEMO_FILES:
        ids = Counter(str(row[demo_file.id_col]) for row in records[demo_file.name] if row[demo_file.id_col])
        exact += sum(n - 1 for n in ids.values())
        if demo_file.source == "hotline":
            continue  # every call opens with the same greeting; spam lives in surveys and reviews
        long_texts = [t for t in _texts(demo_file, records[demo_file.name]) if 60 <= len(t) < 500]
        prefixes = Counter(t[:12] for t in long_texts)
        near += sum(n for n in prefixes.values() if n >= 4)
    assert exact >= 30
    assert near >= 30


def test_big5_file_is_traditional(records: dict[str, list[dict[str, object]]]) -> None:
    text = "".join(str(row["text"]) for row in records["reviews_hk_tw_big5.csv"])
    assert sum(ch in TRADITIONAL_ONLY for ch in text) > 100
    assert not any(ch in SIMPLIFIED_ONLY for ch in text)


def test_hotline_calls_have_4_to_12_turns(records: dict[str, list[dict[str, object]]]) -> None:
    shapes: Counter[str] = Counter()
    for row in records["hotline_telecom.jsonl"]:
        turns = row["turns"]
        if turns:  # the one empty list is a documented bad row
            assert 4 <= len(turns) <= 12
            shapes["role" if "role" in turns[0] else "speaker"] += 1
    assert shapes["role"] > shapes["speaker"] > 0
    for row in records["hotline_banking.csv"]:
        lines = str(row["transcript"]).splitlines()
        assert not lines or (4 <= len(lines) <= 12 and lines[0].startswith(("坐席", "客服")))


def test_emerging_issues_rise(records: dict[str, list[dict[str, object]]]) -> None:
    for issue in EMERGING_ISSUES:
        demo_file = next(f for f in DEMO_FILES if f.name == issue.file)
        inside = outside = 0
        for row, text in zip(records[issue.file], _texts(demo_file, records[issue.file]), strict=True):
            day = str(row["time"])[:10]
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
                continue
            if issue.keywords[0] in text and any(k in text for k in issue.keywords[1:]):
                if issue.start <= day <= issue.end:
                    inside += 1
                else:
                    outside += 1
        days_inside = (date.fromisoformat(issue.end) - date.fromisoformat(issue.start)).days + 1
        days_outside = (date(2026, 11, 20) - date(2026, 8, 1)).days + 1 - days_inside
        assert inside >= 20, (issue.file, inside)
        assert inside / days_inside > 4 * outside / days_outside, (issue.file, inside, outside)


def test_demo_data_dir_is_the_package_folder() -> None:
    assert demo_data_dir() == Path(__file__).resolve().parents[1] / "voc" / "demo" / "data"
