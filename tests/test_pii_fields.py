"""Every string a document stores is PII-masked, whatever field it sits in (issue 17 item 5).

``industry`` was never masked and showed raw in the industry facet; the class is "a stored string field
the PII stage does not know about", so the test fills every string-typed field of `Document` (found by
introspection, so a field added later is covered too) and checks everything the document would store.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from api_support import api_env

from voc.documents import Document, Turn
from voc.pipeline import Pipeline
from voc.settings import VocSettings
from voc.text.normalize import Normalizer
from voc.text.pii import PiiMasker

MASKER = PiiMasker()
NORMALIZE = Normalizer()
PHONE = "13912345678"
# As written in an export: raw, and in a form only normalisation makes plain digits.
WRITTEN = (PHONE, "139\u200b1234\u00ad5678", "１３９<b>1234</b>５６７８")


def _strings(value: Any) -> Iterator[str]:
    """Every string in a stored value, dictionary keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _filled(written: str) -> Document:
    """A document with PII in every field that can hold text."""
    doc = Document(id="", source="review", text=f"电话{written}", text_original=f"电话{written}")
    hints = typing.get_type_hints(Document)
    filled = []
    for field in fields(Document):
        if field.name in ("id", "source", "text", "text_original"):
            continue
        hint = hints[field.name]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is str or (origin in (typing.Union, types.UnionType) and str in args):
            setattr(doc, field.name, f"联系{written}")
        elif origin is dict:
            setattr(doc, field.name, {f"备注{written}": f"回电{written}", "nested": {"list": [f"找{written}"]}})
        elif origin is list and args == (str,):
            setattr(doc, field.name, [f"标签{written}"])
        elif origin is list and args == (Turn,):
            setattr(doc, field.name, [Turn("customer", f"我的电话{written}")])
        else:
            continue
        filled.append(field.name)
    # The fields this test must reach; a new string field joins the list by itself.
    assert {"channel", "industry", "product", "store", "external_id", "meta", "turns", "tags"} <= set(filled)
    return doc


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return Pipeline.from_settings(VocSettings(home=tmp_path_factory.mktemp("home"), workers=1))


@pytest.mark.parametrize("written", WRITTEN)
def test_every_stored_string_field_is_masked(pipeline: Pipeline, written: str) -> None:
    doc = pipeline([_filled(written)])[0]
    stored = doc.to_dict()
    stored.pop("minhash")
    for name, value in stored.items():
        for text in _strings(value):
            assert not MASKER.find(NORMALIZE(text)), (name, text)
            assert "5678" not in text, (name, text)


def test_two_metadata_keys_that_mask_alike_are_both_kept(pipeline: Pipeline) -> None:
    doc = Document(id="", source="review", text="好", text_original="好",
                   meta={f"客户{PHONE}": "一", "客户13812345678": "二"})
    meta = pipeline([doc])[0].meta
    assert sorted(meta.values()) == ["一", "二"] and not any("5678" in key for key in meta)


def test_industry_facet_and_document_show_no_raw_pii(tmp_path: Path) -> None:
    with api_env(tmp_path / "home", corpus=False) as env:
        items = env.ingest([{"id": "f1", "text": "物流太慢", "industry": f"零售{PHONE}",
                             "channel": "１３９\u200b1234\u200b5678", "store": "北京店"}])["items"]
        search = env.client.get("/v1/search", params={"facets": ["industry", "channel"]},
                                headers=env.headers("researcher"))
        assert search.status_code == 200 and search.json()["total"] == 1
        assert "5678" not in search.text, search.json()["facets"]
        assert any(value.startswith("零售") for value in search.json()["facets"]["industry"])
        document = env.client.get(f"/v1/documents/{items[0]['id']}", headers=env.headers("researcher"))
        assert document.status_code == 200 and "5678" not in document.text
