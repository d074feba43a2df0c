from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from typer.testing import CliRunner

from voc.cli.main import app
from voc.indicators.io import IndicatorFileError, dump_tree, parse_tree, read_tree
from voc.indicators.model import diff_trees
from voc.indicators.service import template_dir

runner = CliRunner()

NESTED = {
    "name": "外卖",
    "indicators": [
        {"id": "food", "name": "菜品", "children": [
            {"id": "food.taste", "name": "口味", "definition": "菜品味道", "keywords": ["味道", "口味"],
             "synonyms": "口感，滋味", "survey_question": "您对口味满意吗？"},
            {"name": "分量", "keywords": "分量、份量", "status": "草稿"},
        ]},
        {"id": "delivery", "name": "配送", "keywords": ["配送", "送达"]},
    ],
}
GROUPS = {
    "groups": [
        {"name": "服务", "indicators": [{"name": "服务态度", "关键词": "态度|热情"}, {"名称": "响应速度"}],
         "groups": [{"name": "售后", "indicators": [{"name": "退款", "keywords": ["退款"]}]}]},
        {"name": "价格", "indicators": []},
    ]
}


def test_nested_children_shape() -> None:
    tree = parse_tree(NESTED)
    paths = {loc.node.id: loc.path for loc in tree.walk()}
    assert paths["food.taste"] == ["菜品", "口味"]
    taste = tree.find("food.taste").node
    assert taste.synonyms == ["口感", "滋味"] and taste.survey_question == "您对口味满意吗？"
    portion = tree.find("food.2").node  # no id given: derived from the parent's and the position
    assert portion.name == "分量" and portion.keywords == ["分量", "份量"] and portion.status == "draft"
    assert tree.find("food").node.is_group and not tree.find("delivery").node.is_group


def test_groups_holding_indicators_shape() -> None:
    tree = parse_tree(GROUPS)
    by_name = {loc.node.name: loc for loc in tree.walk()}
    assert by_name["服务态度"].path == ["服务", "服务态度"] and by_name["服务态度"].node.keywords == ["态度", "热情"]
    assert by_name["退款"].path == ["服务", "售后", "退款"] and by_name["退款"].level == 3
    assert by_name["价格"].node.is_group  # an empty group stays a group
    assert by_name["响应速度"].node.kind == "indicator"


@pytest.mark.parametrize("fmt", ["yaml", "json", "xlsx"])
def test_export_import_round_trip(tmp_path: Path, fmt: str) -> None:
    tree = parse_tree(NESTED)
    path = tmp_path / f"tree.{fmt}"
    path.write_bytes(dump_tree(tree, fmt))
    again = read_tree(path)
    assert [loc.node.to_dict() for loc in again.walk()] == [loc.node.to_dict() for loc in tree.walk()]
    assert not any(diff_trees(tree, again)[key] for key in ("added", "removed", "changed"))


def test_xlsx_level_columns(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["一级指标", "二级指标", "三级指标", "关键词", "定义"])
    sheet.append(["物流配送", None, None, "物流", "配送整体"])
    sheet.append([None, "配送速度", None, "慢、快", "送达时效"])  # blank level 1: merged cell above
    sheet.append([None, None, "超时", "超时", None])
    sheet.append(["服务", "客服", None, "客服", None])
    path = tmp_path / "levels.xlsx"
    workbook.save(path)
    tree = read_tree(path)
    by_name = {loc.node.name: loc for loc in tree.walk()}
    assert by_name["超时"].path == ["物流配送", "配送速度", "超时"]
    assert by_name["配送速度"].node.keywords == ["慢", "快"] and by_name["物流配送"].node.definition == "配送整体"
    assert by_name["客服"].parent.name == "服务"


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ("indicators: [\n  - name: a\n  -", "yaml", "invalid YAML at line"),
    ('{"indicators": [', "json", "invalid JSON at line 1"),
    ("indicators:\n  - id: a\n    name: 甲\n  - id: a\n    name: 乙\n", "yaml", "duplicate id 'a'"),
    ("indicators:\n  - keywords: [x]\n", "yaml", "indicators[1] has no name"),
    ("indicators:\n  - name: 甲\n    status: maybe\n", "yaml", "unknown status 'maybe'"),
    ("just text", "yaml", "expected a mapping or a list"),
    ("", "yaml", "the file is empty"),
    ("name: x\n", "txt", "cannot tell the format"),
])
def test_bad_files_give_clear_errors(tmp_path: Path, content: str, suffix: str, message: str) -> None:
    path = tmp_path / f"bad.{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IndicatorFileError, match=re.escape(message)):
        read_tree(path)


def test_broken_xlsx_and_cycles(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(IndicatorFileError, match="not a readable XLSX"):
        read_tree(broken)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "parent_id", "name"])
    sheet.append(["a", "b", "甲"])
    sheet.append(["b", "a", "乙"])
    cyclic = tmp_path / "cycle.xlsx"
    workbook.save(cyclic)
    with pytest.raises(IndicatorFileError, match="cycle"):
        read_tree(cyclic)
    sheet.append(["c", "zzz", "丙"])
    workbook.save(cyclic)
    with pytest.raises(IndicatorFileError, match="row 4: parent 'zzz'"):
        read_tree(cyclic)


def test_every_template_parses_with_definitions_keywords_and_questions() -> None:
    names = sorted(path.stem for path in template_dir().glob("*.yaml"))
    assert names == ["banking", "ecommerce_logistics", "food_delivery", "hotel", "property_management",
                     "retail_store", "telecom"]
    for path in template_dir().glob("*.yaml"):
        tree = parse_tree(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
        leaves = [loc.node for loc in tree.walk() if not loc.node.is_group]
        assert len(leaves) >= 6, path.name
        assert all(n.definition and n.keywords and n.survey_question for n in leaves), path.name


def test_cli_import_show_export_and_bad_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_HOME", str(tmp_path / "home"))
    source = tmp_path / "tree.json"
    source.write_text(json.dumps(GROUPS, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(app, ["indicators", "import", str(source), "--author", "alice", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"version": 1, "name": "指标体系", "nodes": 6, "indicators": 3}

    bad = tmp_path / "bad.yaml"
    bad.write_text("indicators:\n  - id: x\n    name: 甲\n  - id: x\n    name: 乙\n", encoding="utf-8")
    result = runner.invoke(app, ["indicators", "import", str(bad)])
    assert result.exit_code == 2 and "duplicate id 'x'" in result.stderr
    result = runner.invoke(app, ["indicators", "versions", "--json"])
    assert [v["version"] for v in json.loads(result.stdout)] == [1]  # the bad file stored nothing

    result = runner.invoke(app, ["indicators", "show", "--json"])
    shown = json.loads(result.stdout)
    assert shown["version"] == 1 and shown["indicators"][0]["name"] == "服务"
    out = tmp_path / "out.xlsx"
    assert runner.invoke(app, ["indicators", "export", "--format", "xlsx", "--out", str(out)]).exit_code == 0
    assert len(list(read_tree(out).walk())) == 6
    result = runner.invoke(app, ["indicators", "export", "--format", "yaml"])
    assert yaml.safe_load(result.stdout)["indicators"][0]["children"][0]["name"] == "服务态度"
    result = runner.invoke(app, ["indicators", "import", "--template", "nope"])
    assert result.exit_code == 1 and "no template 'nope'" in result.stderr


def test_absurdly_deep_nesting_is_a_clear_error(tmp_path: Path) -> None:
    from voc.indicators.io import IndicatorFileError, read_tree

    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(IndicatorFileError, match="nested too deeply"):
        read_tree(path)
