"""Settings come from ``ASSAY_*`` variables into one typed object."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from assay.settings import Settings, default_database_url


def test_defaults_without_environment():
    settings = Settings()
    assert settings.database_url == ""
    assert settings.host == "127.0.0.1"
    assert settings.port == 6500
    assert settings.secure_cookies is False
    assert settings.prices_file is None


def test_default_database_is_assay_db_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    expected = f"sqlite:///{tmp_path.resolve() / '.assay' / 'assay.db'}"
    assert Settings().resolved_database_url() == expected
    assert default_database_url() == expected
    assert default_database_url(Path("/srv/app")) == "sqlite:////srv/app/.assay/assay.db"


def test_assay_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ASSAY_DATABASE_URL", "postgresql+psycopg://u@db.internal/assay")
    monkeypatch.setenv("ASSAY_HOST", "0.0.0.0")
    monkeypatch.setenv("ASSAY_PORT", "7001")
    monkeypatch.setenv("ASSAY_SECURE_COOKIES", "true")
    monkeypatch.setenv("ASSAY_MAX_BODY_BYTES", "1024")
    monkeypatch.setenv("ASSAY_PRICES_FILE", str(tmp_path / "prices.toml"))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@db.internal/assay"
    assert settings.resolved_database_url() == "postgresql+psycopg://u@db.internal/assay"
    assert settings.host == "0.0.0.0"
    assert settings.port == 7001
    assert settings.secure_cookies is True
    assert settings.max_body_bytes == 1024
    assert settings.prices_file == tmp_path / "prices.toml"


def test_variables_without_the_prefix_are_ignored(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    settings = Settings()
    assert settings.port == 6500
    assert settings.database_url == ""


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ASSAY_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_every_setting_is_described():
    undocumented = [
        name for name, field in Settings.model_fields.items() if not (field.description or "")
    ]
    assert undocumented == []
