"""Settings: defaults, environment, and one-line errors for bad configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerport.config import ConfigError, load_settings


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAYERPORT_PRESIGN_EXPIRES", raising=False)
    settings = load_settings(data_dir=tmp_path)
    assert settings.public_url == "http://127.0.0.1:5000"
    assert settings.account_id == "000000000000"
    assert settings.presign_expires == 3600
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'layerport.db'}"
    assert settings.credentials_path == tmp_path / "credentials"


def test_environment_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERPORT_PRESIGN_EXPIRES", "60")
    monkeypatch.setenv("LAYERPORT_REGION", "eu-west-1")
    settings = load_settings(data_dir=tmp_path, region="ap-south-1", host="0.0.0.0", port=8080)  # noqa: S104
    assert settings.presign_expires == 60
    assert settings.region == "ap-south-1"  # the flag wins
    assert settings.public_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"account_id": "123"}, {}, "12 digits"),
        ({"region": "moon"}, {}, "AWS region"),
        ({"port": 70000}, {}, "--port"),
        ({"public_url": "ftp://x"}, {}, "--public-url"),
        ({}, {"LAYERPORT_PRESIGN_EXPIRES": "0"}, "LAYERPORT_PRESIGN_EXPIRES"),
        ({}, {"LAYERPORT_PRESIGN_EXPIRES": "soon"}, "whole number"),
        ({}, {"LAYERPORT_ADMIN_ACCESS_KEY_ID": "AKIAAAAAAAAAAAAAAAAA"}, "set both"),
    ],
)
def test_bad_configuration_is_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, object],
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)
