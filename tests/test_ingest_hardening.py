"""Issue 17, ingest side: XLSX bombs (item 4), PII in what is written or returned about a row (item 6),
lines that cannot be decoded (item 13), the byte offset of a bad byte (23a), control characters (23b).

Every test drives the real reader, pipeline, store and API; the bomb test measures the peak RSS of a
real `voc ingest` process.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook
from typer.testing import CliRunner

from tests.api_support import api_env
from voc.cli.main import app as cli_app
from voc.ingest.encoding import UnreadableFileError
from voc.ingest.readers import read_records
from voc.service import Voc
from voc.settings import VocSettings

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
SECRETS = (PHONE, ID_NUMBER)
CONTROL_CHARS = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r") + "\x7f"


def stored_bytes(home: Path) -> bytes:
    """Every byte voc keeps under VOC_HOME (store, index, rejects files, WAL included)."""
    return b"".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


def assert_no_secret(*texts: str | bytes) -> None:
    for text in texts:
        blob = text.encode() if isinstance(text, str) else text
        for secret in SECRETS:
            assert secret.encode() not in blob, f"raw PII {secret} in {blob[:300]!r}"


# ---------------------------------------------------------------- item 4: XLSX decompression bombs

def write_xlsx(path: Path, rows: list[tuple[Any, ...]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def write_bomb(path: Path, inflated_bytes: int, filler: bytes = b"a") -> Path:
    """A real workbook whose cell ``BOMB`` becomes ``inflated_bytes`` of ``filler``: a few hundred KB
    on disk, one cell of ``inflated_bytes`` once unpacked (the attack of issue 17). openpyxl writes
    inline strings, so the cell sits in the worksheet; Excel's shared strings are bounded alike."""
    template = write_xlsx(path.with_suffix(".template.xlsx"),
                          [("id", "text"), ("1", "正常的评论内容"), ("2", "BOMB")])
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            data = source.read(info)
            if b"BOMB" not in data:
                bomb.writestr(info, data)
                continue
            head, tail = data.split(b"BOMB")
            with bomb.open(info.filename, "w", force_zip64=True) as member:
                member.write(head)
                block = (filler * (1 << 20))[: 1 << 20]
                for _ in range(inflated_bytes >> 20):
                    member.write(block)
                member.write(tail)
    template.unlink()
    return path


_RSS_PROBE = """
import json, resource, sys
from voc.cli.main import app
import openpyxl, voc.service  # imported before the baseline: only the ingest itself is measured
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    code = app(sys.argv[1:], standalone_mode=False) or 0  # typer.Exit comes back as its code
except SystemExit as exc:
    code = exc.code
except Exception as exc:
    code = getattr(exc, "exit_code", 1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "growth_mb": (peak - base) / 1024}))
"""


def test_xlsx_bomb_is_refused_before_reading_with_flat_memory(tmp_path: Path) -> None:
    bomb = write_bomb(tmp_path / "bomb.xlsx", 200 << 20)  # 200 MB of one cell
    assert bomb.stat().st_size < 1_000_000
    home = tmp_path / "home"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("VOC_")},
           "VOC_HOME": str(home), "VOC_WORKERS": "1"}
    done = subprocess.run([sys.executable, "-c", _RSS_PROBE, "ingest", str(bomb), "--source", "review"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 2, done.stdout + done.stderr
    assert "xl/worksheets/sheet1.xml" in done.stderr and "VOC_XLSX_" in done.stderr  # what, and what to raise
    assert result["growth_mb"] < 60, result  # was ~600 MB (the cell, inflated, decoded and copied)
    assert not (home / "voc.sqlite").exists() or Voc(VocSettings(home=home)).store.count() == 0


@pytest.mark.parametrize(("limits", "filler", "inflated", "what"), [
    ({}, b"a", 20 << 20, "compression ratio"),  # the defaults: 1000:1 is no spreadsheet
    ({"xlsx_max_member_bytes": 4 << 20, "xlsx_max_ratio": 10_000}, b"0123456789abcdef", 8 << 20,
     "xl/worksheets/sheet1.xml unpacks to"),
    ({"xlsx_max_unpacked_bytes": 4 << 20, "xlsx_max_ratio": 10_000}, b"0123456789abcdef", 8 << 20,
     "the workbook unpacks to"),
])
def test_every_xlsx_bound_answers_400_and_stores_nothing(
    tmp_path: Path, limits: dict[str, int], filler: bytes, inflated: int, what: str
) -> None:
    bomb = write_bomb(tmp_path / "bomb.xlsx", inflated, filler)
    with api_env(tmp_path / "home", **limits) as env:
        before = env.app.state.voc_api.voc.store.count()
        response = env.client.post("/v1/documents/upload", data={"source": "review"},
                                   files={"file": ("bomb.xlsx", bomb.read_bytes())}, headers=env.headers("admin"))
        assert response.status_code == 400, response.text
        assert what in response.json()["error"]["message"]
        assert env.app.state.voc_api.voc.store.count() == before


def test_legit_xlsx_ingests_and_an_oversized_cell_rejects_only_its_row(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "ok.xlsx", [("id", "text", "备注"), ("1", "物流很快，包装完好", "无"),
                                             ("2", "客服回复及时", "x" * 30_000), ("3", "价格实惠", "好")])
    with api_env(tmp_path / "home", corpus=False) as env:
        response = env.client.post("/v1/documents/upload", data={"source": "review"},
                                   files={"file": ("ok.xlsx", path.read_bytes())}, headers=env.headers("admin"))
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["accepted"], report["rejected"]) == (2, 1)
        assert report["rejects"] == [{"row": 3, "reason": "备注 has 30,000 characters, over the 20,000 limit"}]


# ---------------------------------------------------------------- item 6: PII in rejects and errors

def pii_file(path: Path) -> Path:
    """Every header and every cell holds PII; rows that fail in each way a row can."""
    header = ["id", "text", "time", "score", f"联系{PHONE}", f"证件{ID_NUMBER}"]
    rows = [
        ["1", f"服务很好，电话{PHONE}", "2026-01-02", "9", f"手机{PHONE}", f"身份证{ID_NUMBER}"],
        ["2", f"态度差{ID_NUMBER}", f"联系{PHONE}", "3", f"手机{PHONE}", f"身份证{ID_NUMBER}"],  # bad time
        ["3", f"还行{PHONE}", "2026-01-02", f"分数{PHONE}", PHONE, ID_NUMBER],  # bad score
        ["4", "", "2026-01-02", "5", PHONE, ID_NUMBER],  # no text
        ["5", "多一列", "2026-01-02", "5", PHONE, ID_NUMBER, f"多余{PHONE}"],  # too many fields
    ]
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_cli_ingest_writes_and_prints_no_raw_pii(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("VOC_HOME", str(home))
    monkeypatch.setenv("VOC_WORKERS", "1")
    runner = CliRunner()
    result = runner.invoke(cli_app, ["ingest", str(pii_file(tmp_path / "pii.csv")), "--source", "survey", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["accepted"], summary["rejected"]) == (1, 4)
    rejects = Path(summary["rejects_file"]).read_text(encoding="utf-8")
    reasons = [json.loads(line)["reason"] for line in rejects.splitlines()]
    assert reasons[0] == "unparsable time '联系[手机号]'" and reasons[1].startswith("score must be a number")
    assert '"联系[手机号]"' in rejects  # column names are masked, not dropped
    assert_no_secret(result.output, stored_bytes(home))

    headerless = tmp_path / "headerless.csv"
    headerless.write_text(f"1,投诉{PHONE},{ID_NUMBER}\n2,好评,{PHONE}\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["ingest", str(headerless), "--source", "review"])
    assert result.exit_code == 2
    assert "[手机号]" in result.output and "no text column" in result.output
    assert_no_secret(result.output, stored_bytes(home))

    giant_header = tmp_path / "giant.csv"  # a 1 MB data row taken for a header is not echoed whole
    giant_header.write_text("评论" * 500_000 + ",x\n1,好\n", encoding="utf-8")
    result = runner.invoke(cli_app, ["ingest", str(giant_header), "--source", "review"])
    assert result.exit_code == 2 and len(result.output) < 2_000


def test_api_answers_jobs_and_documents_carry_no_raw_pii(tmp_path: Path) -> None:
    headerless = f"1,投诉{PHONE},{ID_NUMBER}\n2,好评,{PHONE}\n".encode()
    with api_env(tmp_path / "home", api_job_threshold_bytes=1_000) as env:
        admin = env.headers("admin")
        small = env.client.post("/v1/documents/upload", data={"source": "review"},
                                files={"file": ("h.csv", headerless)}, headers=admin)
        assert small.status_code == 400 and "[手机号]" in small.text
        big = headerless + b"".join(f"{i},还可以,无\n".encode() for i in range(3, 200))
        job = env.client.post("/v1/documents/upload", data={"source": "review"},
                              files={"file": ("h.csv", big)}, headers=admin)
        assert job.status_code == 202
        env.app.state.voc_api.jobs.wait(job.json()["job_id"], timeout=60)
        job_view = env.client.get(f"/v1/jobs/{job.json()['job_id']}", headers=admin)
        assert job_view.json()["status"] == "failed" and "[手机号]" in job_view.text

        upload = env.client.post("/v1/documents/upload", data={"source": "survey"},
                                 files={"file": ("pii.csv", pii_file(tmp_path / "pii.csv").read_bytes())},
                                 headers=admin)
        assert upload.status_code == 200 and upload.json()["rejected"] == 4
        batch = env.client.post("/v1/documents", headers=admin, json={"source": "review", "documents": [
            {"id": "k1", "text": "很满意", "extra": {f"联系{PHONE}": f"号码{PHONE}"}},
            {"id": "k2", "text": "一般", "time": f"联系{PHONE}"}]})
        assert batch.status_code == 200 and batch.json()["items"][1]["status"] == "rejected"
        shown = [env.client.get(f"/v1/documents/{item['id']}", headers=admin).text
                 for item in batch.json()["items"] if item.get("id")]
        shown += [env.client.get("/v1/documents", headers=admin, params={"limit": 100}).text]
        assert any("联系[手机号]" in text for text in shown)
        assert_no_secret(small.text, job_view.text, upload.text, batch.text, *shown)
    assert_no_secret(stored_bytes(tmp_path / "home"))


# ---------------------------------------------------------------- item 13: lines that cannot be decoded

def test_lone_surrogate_and_deep_nesting_reject_their_line_only(service: Voc, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    lines = ['{"id": "1", "text": "第一条正常"}',
             '{"id": "2", "text": "坏\\ud800字"}',
             '{"id": "3", "text": "ok", "\\udfff": "key"}',
             '{"id": "4", "text": "deep", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
             "[" * 100_000,
             '{"id": "6", "text": "nested", "x": ' + "[" * 200 + "]" * 200 + "}",
             '{"id": "7", "text": "最后一条正常"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = service.ingest(path, "review")
    assert (report.accepted, report.rejected) == (2, 5)
    reasons = {entry["row"]: entry["reason"] for entry in map(json.loads, Path(report.rejects_file or "")
                                                             .read_text(encoding="utf-8").splitlines())}
    assert "lone surrogate" in reasons[2] and "lone surrogate" in reasons[3]
    assert all("nested deeper than" in reasons[row] for row in (4, 5, 6)), reasons


def test_upload_of_a_file_with_bad_lines_answers_200(tmp_path: Path) -> None:
    content = '{"text": "好评"}\n{"text": "\\udc80"}\n' + "[" * 50_000 + "\n"
    with api_env(tmp_path / "home", corpus=False) as env:
        response = env.client.post("/v1/documents/upload", data={"source": "review"},
                                   files={"file": ("f.jsonl", content.encode())}, headers=env.headers("admin"))
        assert response.status_code == 200, response.text
        assert (response.json()["accepted"], response.json()["rejected"]) == (1, 2)


_NO_NEWLINES = st.characters(blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)
_JSONL_LINES = st.one_of(
    # objects with text, any other keys and values; ensure_ascii turns surrogates into \\udxxx escapes
    st.builds(lambda text, rest: json.dumps({"text": text, **rest}),
              st.text(min_size=1, max_size=40), st.dictionaries(st.text(max_size=8), _JSON_VALUES, max_size=3)),
    st.builds(json.dumps, _JSON_VALUES),
    st.text(_NO_NEWLINES, max_size=60),
    st.builds(lambda depth, text: '{"text": ' + json.dumps(text) + ', "x": ' + "[" * depth + "]" * depth + "}",
              st.integers(1, 5_000), st.text(min_size=1, max_size=10)),
)


def _ingest_counts(path: Path) -> tuple[int, int, Path]:
    home = Path(os.environ["HYPOTHESIS_VOC_HOME"])
    voc = Voc(VocSettings(home=home, workers=1))
    try:
        report = voc.ingest(path, "review")
    finally:
        voc.close()
    return report.accepted + report.duplicates, report.rejected, home


@pytest.fixture
def _hypothesis_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HYPOTHESIS_VOC_HOME", str(tmp_path / "home"))
    return tmp_path


def _assert_clean_store(home: Path) -> None:
    with sqlite3.connect(home / "voc.sqlite") as conn:
        for row in conn.execute("SELECT * FROM documents"):
            for value in row:
                if isinstance(value, str):
                    assert not any(ch in value for ch in CONTROL_CHARS), repr(value[:200])
                    value.encode("utf-8")  # no lone surrogate reached the store


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_JSONL_LINES, min_size=1, max_size=8))
def test_any_jsonl_line_is_accepted_or_rejected_never_fatal(_hypothesis_home: Path, lines: list[str]) -> None:
    path = _hypothesis_home / "prop.jsonl"
    # A good first line: the file's columns are taken from its first readable row, so without it a
    # file could be refused whole, and the property is about what happens to each line.
    lines = ['{"text": "第一行"}', *lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stored, rejected, home = _ingest_counts(path)
    event(f"{rejected} rejected")
    assert stored + rejected == sum(1 for line in lines if line.strip().lstrip("\ufeff"))
    _assert_clean_store(home)


_CELLS = st.one_of(st.text(max_size=20), st.text(st.sampled_from(CONTROL_CHARS + "a中,\""), max_size=20),
                   st.just("长" * 25_000))


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELLS, min_size=1, max_size=4), min_size=1, max_size=6),
       header=st.lists(st.text(max_size=6), max_size=2), delimiter=st.sampled_from([",", "\t"]))
def test_any_delimited_file_is_accepted_rejected_or_refused_whole(
    _hypothesis_home: Path, rows: list[list[str]], header: list[str], delimiter: str
) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["id", "text", *header])
    writer.writerows(rows)
    path = _hypothesis_home / ("prop.csv" if delimiter == "," else "prop.tsv")
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        stored, rejected, _ = _ingest_counts(path)
    except UnreadableFileError as exc:  # a whole-file verdict: no row without a problem; it says so
        assert "no readable rows" in str(exc), exc
        event("refused whole")
        return
    event("read")
    blank = re.compile("[" + re.escape(CONTROL_CHARS) + "]")
    assert stored + rejected == sum(1 for row in rows if any(blank.sub("", cell).strip() for cell in row))
    _assert_clean_store(Path(os.environ["HYPOTHESIS_VOC_HOME"]))


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(st.binary(max_size=40) | st.builds(str.encode, st.text(_NO_NEWLINES, max_size=30))
                     | st.sampled_from([b'{"text": "\\ud800"}', b"[" * 5_000, b'{"text": "ok\\u0000"}']),
                     min_size=1, max_size=6))
def test_arbitrary_bytes_are_rejected_rows_or_a_clear_whole_file_error(_hypothesis_home: Path,
                                                                       data: list[bytes]) -> None:
    path = _hypothesis_home / "bytes.jsonl"
    path.write_bytes(b"\n".join(data) + b"\n")
    try:
        _ingest_counts(path)
        event("read")
    except UnreadableFileError as exc:
        assert str(exc)
        event("refused whole")


# ---------------------------------------------------------------- 23a: the offset of the first bad byte

@pytest.mark.parametrize(("encoding", "rows", "bad"), [
    ("utf-8", 20_000, b"\xff"),  # past the 256 KB detection sample: the decoder's offset was per chunk
    ("utf-8", 20_000, b"\xe4\xb8,"),  # a multi-byte sequence cut short
    ("gb18030", 20_000, b"\xff"),
    ("utf-16", 20_000, b"\x00\xd8A\x00"),  # a lone high surrogate (little-endian, after the BOM)
])
def test_decode_error_names_the_true_offset(tmp_path: Path, encoding: str, rows: int, bad: bytes) -> None:
    text = "id,text\n" + "".join(f"{i},这是一条正常的评论\n" for i in range(rows))
    head = text.encode(encoding)  # "utf-16" writes its BOM
    path = tmp_path / "mixed.csv"
    path.write_bytes(head + bad + "9,之后的内容\n".encode("utf-16-le" if encoding == "utf-16" else encoding))
    line = rows + 2
    with pytest.raises(UnreadableFileError, match=rf"offset {len(head)} \(line {line}\)"):
        list(read_records(path))


# ---------------------------------------------------------------- 23b: control characters in every field

def test_nul_and_control_characters_never_reach_the_store(service: Voc, tmp_path: Path) -> None:
    csv_path = tmp_path / "nul.csv"
    csv_path.write_bytes("id\x00,te\x00xt,门\x01店\n"
                         "a\x00b,评价\x00内容\x07很好,北京\x00店\x1b\n".encode())
    jsonl_path = tmp_path / "nul.jsonl"
    jsonl_path.write_text(json.dumps({"id": "c\u0000d", "text": "味道\u0000不错\u001f", "store\u0000": "上\u0008海",
                                      "extra": {"k\u0000": ["v\u0000"]}}) + "\n"
                          # DEL is legal raw in a JSON string: written unescaped
                          + json.dumps({"text": "干净\x7f的文本"}, ensure_ascii=False) + "\n", encoding="utf-8")
    for path, rows in ((csv_path, 1), (jsonl_path, 2)):
        report = service.ingest(path, "review")
        assert (report.accepted, report.rejected) == (rows, 0)
    docs = [service.store.get(doc_id) for doc_id in service.index.ids_for(service.build_query(None))]
    by_text = {doc.text_original: doc for doc in docs if doc is not None}
    assert set(by_text) == {"评价内容很好", "味道不错", "干净的文本"}
    assert by_text["评价内容很好"].store == "北京店" and by_text["味道不错"].store == "上海"
    assert by_text["味道不错"].meta["extra"] == {"extra": "{'k': ['v']}"}
    _assert_clean_store(service.settings.home)
