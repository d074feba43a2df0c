"""Write the sample corpus for ``voc demo``: ``python -m voc.demo.generate [OUT_DIR]``.

Deterministic: one ``random.Random(0)`` hands each file its own seed, so the output is byte-identical
on every run and editing one file's builder leaves the other files unchanged. Every text is composed
here from our own templates; no public dataset is copied.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import sys
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from voc.demo import DEMO_FILES, DemoFile
from voc.demo._calls import BANKING_COLUMNS, TELECOM_COLUMNS, hotline_banking, hotline_telecom
from voc.demo._reviews import (
    FOOD_COLUMNS,
    HANT_COLUMNS,
    REVIEW_COLUMNS,
    reviews_food,
    reviews_hk_tw,
    reviews_logistics,
)
from voc.demo._rows import Row
from voc.demo._surveys import PROPERTY_COLUMNS, SURVEY_COLUMNS, survey_property, survey_retail_banking

Builder = Callable[[random.Random], tuple[list[Row], int]]

BUILDERS: dict[str, tuple[Builder, list[str]]] = {
    "survey_retail_banking.csv": (survey_retail_banking, SURVEY_COLUMNS),
    "survey_property.xlsx": (survey_property, PROPERTY_COLUMNS),
    "hotline_telecom.jsonl": (hotline_telecom, TELECOM_COLUMNS),
    "hotline_banking.csv": (hotline_banking, BANKING_COLUMNS),
    "reviews_food_delivery_gbk.csv": (reviews_food, FOOD_COLUMNS),
    "reviews_logistics.tsv": (reviews_logistics, REVIEW_COLUMNS),
    "reviews_hk_tw_big5.csv": (reviews_hk_tw, HANT_COLUMNS),
}
SEED = 0
# Fixed zip-entry and document-property dates keep the XLSX byte-identical between runs.
XLSX_STAMP = datetime(2026, 11, 21, 9, 0, 0)


def _encode(text: str, encoding: str, name: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        context = text[max(0, exc.start - 20): exc.end + 20]
        raise ValueError(f"{name}: {text[exc.start:exc.end]!r} is not encodable in {encoding}: …{context}…") from exc


def _delimited(rows: Sequence[Row], columns: list[str], delimiter: str, lineterminator: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return buffer.getvalue()


def _jsonl(rows: Sequence[Row], columns: list[str]) -> str:
    return "".join(json.dumps({c: row[c] for c in columns}, ensure_ascii=False) + "\n" for row in rows)


def _xlsx(rows: Sequence[Row], columns: list[str]) -> bytes:
    from openpyxl import Workbook

    from voc.spreadsheet_safety import append_text_safe_row

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "问卷数据"
    sheet.append(columns)
    for row in rows:
        append_text_safe_row(sheet, [row.get(c) for c in columns])
    sheet.column_dimensions["F"].width = 60
    sheet.column_dimensions["G"].width = 20
    workbook.properties.creator = "voc demo generator"
    workbook.properties.created = XLSX_STAMP
    raw = io.BytesIO()
    workbook.save(raw)
    # openpyxl stamps "modified" with the current time and zip entries with the current time;
    # rewrite both. Stored (uncompressed) entries avoid depending on the zlib build's output.
    stamp = XLSX_STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>",
                              data)
            entry = zipfile.ZipInfo(info.filename, date_time=XLSX_STAMP.timetuple()[:6])
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def render(demo_file: DemoFile, rows: Sequence[Row], columns: list[str]) -> bytes:
    if demo_file.format == "xlsx":
        return _xlsx(rows, columns)
    if demo_file.format == "jsonl":
        text = _jsonl(rows, columns)
    elif demo_file.format == "tsv":
        text = _delimited(rows, columns, "\t", "\n")
    else:
        text = _delimited(rows, columns, ",", "\r\n")  # spreadsheet-style CSV exports use CRLF
    return _encode(text, demo_file.encoding, demo_file.name)


def build(seed: int = SEED) -> dict[str, tuple[bytes, int, int]]:
    """Render every demo file: name -> (bytes, data rows, bad rows)."""
    master = random.Random(seed)
    seeds = {demo_file.name: master.getrandbits(64) for demo_file in DEMO_FILES}
    out: dict[str, tuple[bytes, int, int]] = {}
    for demo_file in DEMO_FILES:
        builder, columns = BUILDERS[demo_file.name]
        rows, bad = builder(random.Random(seeds[demo_file.name]))
        out[demo_file.name] = (render(demo_file, rows, columns), len(rows), bad)
    return out


def write_corpus(out_dir: Path, seed: int = SEED) -> dict[str, tuple[int, int]]:
    """Write all files into ``out_dir``; returns name -> (data rows, bad rows)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats: dict[str, tuple[int, int]] = {}
    for name, (data, rows, bad) in build(seed).items():
        (out_dir / name).write_bytes(data)
        stats[name] = (rows, bad)
    return stats


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args(argv)
    stats = write_corpus(args.out_dir)
    mismatched = False
    for demo_file in DEMO_FILES:
        rows, bad = stats[demo_file.name]
        flag = "" if (rows, bad) == (demo_file.rows, demo_file.bad_rows) else "  <- differs from DEMO_FILES"
        mismatched = mismatched or bool(flag)
        print(f"{demo_file.name:32} {rows:5d} rows {bad:3d} bad  {demo_file.encoding}{flag}")
    print(f"{'total':32} {sum(r for r, _ in stats.values()):5d} rows in {args.out_dir}")
    if mismatched:
        print("update rows/bad_rows in voc/demo/__init__.py to match", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
