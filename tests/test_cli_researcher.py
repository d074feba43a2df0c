"""The researcher's CLI day (issue 21): checked filter values, honest empty answers, export,
analysis detail, multi-word queries."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voc.cli.main import app

runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOC_WORKERS", "1")
    return tmp_path / "home"


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def stored(home: Path, tmp_path: Path) -> Path:
    data = tmp_path / "r.csv"
    data.write_text("id,text,time,industry\n1,快递柜超时收费太坑了,2026-11-01,物流\n"
                    "2,=HYPERLINK(\"http://x\") 送餐很慢 菜都凉了 电话13812345678,2026-11-02,外卖\n"
                    "3,东西很好 包装也好,2026-11-03,外卖\n", encoding="utf-8")
    code, out, _ = invoke("ingest", str(data), "--source", "review", "--json")
    assert code == 0, out
    return data


@pytest.mark.parametrize(("args", "allowed"), [
    (("search", "--sentiment", "negtive"), "negative, neutral, positive"),
    (("search", "快递", "--source", "reviwe"), "survey, hotline, review"),
    (("tag", "add", "x", "--sentiment", "negtive"), "negative, neutral, positive"),
    (("tag", "add", "x", "--source", "reviwe"), "survey, hotline, review"),
])
def test_unknown_enum_values_exit_2_naming_the_allowed_ones(stored: Path, args: tuple[str, ...],
                                                            allowed: str) -> None:
    code, out, err = invoke(*args)
    assert code == 2 and allowed in err and "0 documents" not in out


def test_valid_values_with_no_matches_say_so(stored: Path) -> None:
    code, out, _ = invoke("search", "快递", "--sentiment", "positive", "--industry", "汽车")
    assert code == 0
    assert "no documents match" in out and "sentiment=positive" in out
    assert "no document has industry 汽车" in out and "物流" in out
    code, _, err = invoke("tag", "add", "x", "--query", "快递", "--industry", "汽车")
    assert code == 0 and "no documents match" in err


def test_an_empty_store_says_so_instead_of_zero_hits(home: Path) -> None:
    code, out, _ = invoke("search", "快递")
    assert code == 0 and "this store is empty" in out and "VOC_HOME" in out


def test_several_unquoted_words_are_one_query(stored: Path) -> None:
    code, out, _ = invoke("search", "快递柜", "收费", "--json")
    assert code == 0 and json.loads(out)["total"] == 1


def test_export_csv_has_a_bom_chosen_columns_masked_text_and_escaped_formulas(stored: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = invoke("export", "--output", str(target), "--columns", "id,industry,text", "--sort", "oldest")
    assert code == 0 and "wrote 3 documents" in out
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["id", "industry", "text"] and len(rows) == 4
    formula = next(row[2] for row in rows[1:] if "HYPERLINK" in row[2])
    assert formula.startswith("'=") and "13812345678" not in formula  # escaped, PII masked

    code, _, _ = invoke("export", "快递", "--output", str(target), "--industry", "物流")
    assert code == 0 and len(list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))) == 2
    code, _, err = invoke("export", "--output", str(target), "--columns", "id,colour")
    assert code == 2 and "colour" in err and "text" in err


def test_export_xlsx_streams_pages_and_keeps_formulas_text(stored: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl import load_workbook

    import voc.export
    import voc.service

    monkeypatch.setattr(voc.export, "PAGE_SIZE", 2)  # three documents over two cursor pages
    pages: list[int] = []
    search = voc.service.Voc.search
    monkeypatch.setattr(voc.service.Voc, "search", lambda self, *a, **k: pages.append(k["limit"]) or search(
        self, *a, **k))
    target = tmp_path / "out.xlsx"
    code, out, _ = invoke("export", "--output", str(target), "--sentiment", "negative", "--sentiment", "neutral",
                          "--sentiment", "positive")
    assert code == 0 and "wrote 3 documents" in out, out
    sheet = load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "id" and len({row[0] for row in rows[1:]}) == 3
    text_column = rows[0].index("text")
    formula_cell = next(c for c in sheet.iter_cols(min_col=text_column + 1, max_col=text_column + 1).__next__()
                        if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert formula_cell.data_type == "s" and formula_cell.quotePrefix
    assert pages[:2] == [2, 2]


def test_data_without_time_says_so_in_trend_and_emerging(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "untimed.csv"
    data.write_text("id,text\n1,快递柜超时收费太坑了\n2,送餐很慢，菜都凉了\n", encoding="utf-8")
    assert invoke("ingest", str(data), "--source", "review")[0] == 0
    code, out, _ = invoke("topics", "emerging")
    assert code == 0 and "no time" in out and "time column" in out and "no emerging topics" not in out
    code, out, _ = invoke("topics", "trend", "0")
    assert code == 0 and "no time" in out and "time column" in out


def test_without_voc_home_the_store_follows_the_user_across_directories(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_WORKERS", "1")
    data = tmp_path / "r.csv"
    data.write_text("id,text\n1,快递柜超时收费太坑了\n", encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    assert invoke("ingest", str(data), "--source", "review")[0] == 0
    monkeypatch.chdir(tmp_path / "b")  # elsewhere: the same store, not a new empty one
    code, out, _ = invoke("search", "快递柜", "--json")
    assert code == 0 and json.loads(out)["total"] == 1
    assert (tmp_path / "xdg-data" / "voc" / "voc.sqlite").is_file() and not (tmp_path / "b" / "voc-data").exists()


def test_analyze_without_json_shows_clauses_and_aspects(home: Path) -> None:
    code, out, _ = invoke("analyze", "快递太慢了，但是东西不错")
    assert code == 0
    assert "clauses" in out and "快递太慢了" in out and "但是东西不错" in out
    assert "positive" in out and "negative" in out  # a mixed review, not one label
    assert "aspects" in out and "物流配送 · 快递 → 太慢了 · negative" in out


def test_progress_says_loading_models_until_the_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from voc.cli import common

    screen = io.StringIO()
    monkeypatch.setattr(common, "err_console", Console(file=screen, force_terminal=True, width=100))
    with common.progress_bar("demo ingest", 10, waiting="loading models") as advance:
        common.err_console.file.flush()
        before = screen.getvalue()
        advance(3)
    assert "loading models" in before or "loading models" in screen.getvalue()
    assert "demo ingest" in screen.getvalue().split("loading models")[-1]


def test_help_shows_plain_placeholders() -> None:
    code, out, _ = invoke("ingest", "--help")
    assert code == 0 and "PATH" in out and "{path}" not in out and "<bool>" not in out
    assert "<bool>" not in invoke("search", "--help")[1]


def test_ingest_json_reports_near_duplicates_and_encoding(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "gbk.csv"
    data.write_bytes("id,text\n1,外卖送到都凉了，味道一般\n2,快递柜超时收费太坑了\n".encode("gbk"))
    code, out, _ = invoke("ingest", str(data), "--source", "review", "--json")
    summary = json.loads(out)
    assert code == 0 and summary["near_duplicates"] == 0 and summary["encoding"] in ("gbk", "gb18030")


def test_rejects_path_is_one_line_however_narrow(home: Path, tmp_path: Path) -> None:
    deep = tmp_path / ("很长的目录名" * 6)
    deep.mkdir()
    data = deep / "r.csv"
    data.write_text("id,text\n1,快递柜超时收费太坑了\n2,\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(data), "--source", "review"], env={"COLUMNS": "80"})
    line = next(line for line in result.stdout.splitlines() if line.startswith("rejected rows"))
    assert line.endswith(".jsonl") and str(home) in line


def test_topics_list_has_a_header_and_coverage_pads_by_display_width(home: Path, stored: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from voc.cli.indicators import pad

    assert pad("物流配送", 10) == "物流配送  " and pad("app", 5) == "app  "
    import voc.topics.service as topics_service

    class Topic:
        id, size, negative_share, label, keywords = 3, 12, 0.5, "快递柜", ["快递柜", "收费"]

    monkeypatch.setattr(topics_service.TopicService, "list_topics", lambda self: [Topic()])
    code, out, _ = invoke("topics", "list")
    first, second = out.splitlines()[:2]
    assert code == 0 and "label" in first and "docs" in first and "快递柜" in second


def test_indicators_diff_is_readable_without_json(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "t.json"
    tree.write_text(json.dumps({"name": "树", "indicators": [{"id": "d", "name": "配送", "keywords": ["快递"]}]}),
                    encoding="utf-8")
    assert invoke("indicators", "import", str(tree))[0] == 0
    tree.write_text(json.dumps({"name": "树", "indicators": [{"id": "d", "name": "配送", "keywords": ["快递"]},
                                                          {"id": "p", "name": "价格", "keywords": ["贵"]}]}),
                    encoding="utf-8")
    assert invoke("indicators", "import", str(tree))[0] == 0
    code, out, _ = invoke("indicators", "diff", "1")
    assert code == 0 and "1 added" in out and "价格" in out and not out.lstrip().startswith("{")
    code, out, _ = invoke("indicators", "diff", "1", "--json")
    assert json.loads(out)["added"][0]["id"] == "p"


def test_rating_and_nps_options(home: Path, tmp_path: Path) -> None:
    data = tmp_path / "rated.csv"
    data.write_text("id,text,rating\n1,快递柜超时收费太坑了,1\n2,很好吃,5\n", encoding="utf-8")
    assert invoke("ingest", str(data), "--source", "review")[0] == 0
    code, out, _ = invoke("search", "--rating-max", "1", "--json")
    assert code == 0 and [hit["rating"] for hit in json.loads(out)["hits"]] == [1.0]
    code, _, err = invoke("search", "--nps", "detracter")
    assert code == 2 and "detractor, passive, promoter" in err
    code, out, _ = invoke("tag", "add", "一星", "--rating-max", "1", "--json")
    assert json.loads(out)["changed"] == 1
