from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from voc.settings import VocSettings


def test_defaults(tmp_path: Path) -> None:
    settings = VocSettings()
    assert settings.home == tmp_path / "xdg-data" / "voc"  # no voc-data here or above: the user's data dir
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'xdg-data' / 'voc' / 'voc.sqlite'}"
    assert settings.index == "embedded" and settings.pii_enabled and len(settings.pii_types) == 5


def test_default_home_is_the_nearest_voc_data_upwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """So `voc search` in a subdirectory (or anywhere, for the user data dir) finds what `voc demo` stored."""
    (tmp_path / "voc-data").mkdir()
    deeper = tmp_path / "reports" / "2026"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    assert VocSettings().home == tmp_path / "voc-data"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOC_HOME", str(tmp_path))
    monkeypatch.setenv("VOC_DATABASE_URL", "postgresql+psycopg://voc@localhost/voc")
    monkeypatch.setenv("VOC_PII_TYPES", '["phone", "email"]')
    monkeypatch.setenv("VOC_USER_DICTS", f'["{tmp_path / "a.txt"}"]')
    monkeypatch.setenv("VOC_ES_PASSWORD", "s3cret")
    settings = VocSettings()
    assert settings.home == tmp_path and settings.resolved_database_url.startswith("postgresql")
    assert settings.pii_types == ["phone", "email"] and settings.user_dicts == [tmp_path / "a.txt"]
    assert "s3cret" not in repr(settings)


def test_config_file_and_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "voc.toml"
    config.write_text('home = "from-file"\nworkers = 3\npii_style = "partial"\n', encoding="utf-8")
    monkeypatch.setenv("VOC_CONFIG", str(config))
    settings = VocSettings()
    assert (settings.home, settings.workers, settings.pii_style) == (Path("from-file"), 3, "partial")
    monkeypatch.setenv("VOC_WORKERS", "1")
    assert VocSettings().workers == 1  # environment beats the file
    monkeypatch.delenv("VOC_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert VocSettings().home == Path("from-file")  # ./voc.toml is found without VOC_CONFIG


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOC_PII_TYPES", '["passport"]')
    with pytest.raises(ValidationError, match="passport"):
        VocSettings()
    monkeypatch.delenv("VOC_PII_TYPES")
    monkeypatch.setenv("VOC_INDEX", "solr")
    with pytest.raises(ValidationError):
        VocSettings()
