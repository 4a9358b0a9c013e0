"""One typed settings object, built from flags and ``LAYERPORT_*`` environment variables.

Every setting has a flag (``layerport serve --x``) and an environment variable
(``LAYERPORT_X``); the flag wins.  Bad configuration raises :class:`ConfigError`
whose message is one line that says what is wrong and how to fix it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_PRESIGN_EXPIRES = 3600
# A pre-signed layer URL may live at most as long as an authorization token.
MAX_PRESIGN_EXPIRES = 12 * 3600
ADMIN_PROFILE = "layerport"

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ACCOUNT = re.compile(r"\d{12}")


class ConfigError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


def default_data_dir() -> Path:
    """Where the embedded default keeps its data, shared by ``serve`` and ``ecr``."""
    env = os.environ.get("LAYERPORT_DATA_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "layerport"


@dataclass(frozen=True)
class Settings:
    """Everything a running layerport needs to know, validated once at start.

    host, port: where to listen.
    data_dir: the embedded default's home (SQLite file, blobs, credentials file).
    region: the AWS region this registry pretends to be; SigV4 scopes must name it.
    public_url: the base URL clients reach this server at (proxyEndpoint, blob URLs).
    account_id: the default account's 12-digit registry id.
    database_url: SQLAlchemy URL of the metadata store.
    store_url: URL of the blob store (``file:///path``).
    presign_expires: lifetime in seconds of pre-signed layer URLs.
    admin_access_key_id, admin_secret_access_key: fixed admin key, or None to generate one.
    create_on_push: whether a registry push to a missing repository creates it.
    workers: server processes sharing the port.
    rate_limit: requests a second allowed per access key (per replica); 0 is unlimited.
    max_uploads: open uploads allowed per account.
    max_parts: UploadLayerPart calls allowed per upload (ECR's quota is 4,200).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = Path("data")
    region: str = DEFAULT_REGION
    public_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    account_id: str = DEFAULT_ACCOUNT_ID
    database_url: str = "sqlite+aiosqlite:///data/layerport.db"
    store_url: str = "file://data/blobs"
    presign_expires: int = DEFAULT_PRESIGN_EXPIRES
    admin_access_key_id: str | None = None
    admin_secret_access_key: str | None = None
    create_on_push: bool = False
    workers: int = 1
    rate_limit: float = 0.0
    max_uploads: int = 10_000
    max_parts: int = 4200

    @property
    def credentials_path(self) -> Path:
        """The shared-credentials file holding the admin key (profile ``layerport``)."""
        return self.data_dir / "credentials"

    @property
    def registry_host(self) -> str:
        """``host:port`` of the public URL: what goes in front of a repository name."""
        return urlsplit(self.public_url).netloc


def _env(name: str) -> str | None:
    value = os.environ.get(f"LAYERPORT_{name}")
    return value if value not in (None, "") else None


def load_settings(
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: str | Path | None = None,
    region: str | None = None,
    public_url: str | None = None,
    account_id: str | None = None,
    database_url: str | None = None,
    store_url: str | None = None,
    presign_expires: int | None = None,
    create_on_push: bool | None = None,
    workers: int | None = None,
    rate_limit: float | None = None,
) -> Settings:
    """Merge flags over ``LAYERPORT_*`` variables over defaults, and validate the result."""
    host = host or _env("HOST") or DEFAULT_HOST
    port = port if port is not None else _int("PORT", _env("PORT"), DEFAULT_PORT)
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    data = Path(data_dir) if data_dir else (Path(e) if (e := _env("DATA_DIR")) else None)
    data = (data or default_data_dir()).expanduser().resolve()
    region = region or _env("REGION") or DEFAULT_REGION
    if not _REGION.fullmatch(region):
        raise ConfigError(f"--region {region!r} is not an AWS region name such as us-east-1")
    account_id = account_id or _env("ACCOUNT_ID") or DEFAULT_ACCOUNT_ID
    if not _ACCOUNT.fullmatch(account_id):
        raise ConfigError(f"--account-id must be 12 digits, not {account_id!r}")
    public_url = (public_url or _env("PUBLIC_URL") or _default_public_url(host, port)).rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ConfigError(f"--public-url must look like http://host:port, not {public_url!r}")
    expires = (
        presign_expires
        if presign_expires is not None
        else _int("PRESIGN_EXPIRES", _env("PRESIGN_EXPIRES"), DEFAULT_PRESIGN_EXPIRES)
    )
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise ConfigError(
            f"LAYERPORT_PRESIGN_EXPIRES must be 1..{MAX_PRESIGN_EXPIRES} seconds, not {expires}"
        )
    database_url = (
        database_url or _env("DATABASE") or f"sqlite+aiosqlite:///{data / 'layerport.db'}"
    )
    store_url = store_url or _env("STORE") or (data / "blobs").as_uri()
    key_id = _env("ADMIN_ACCESS_KEY_ID")
    secret = _env("ADMIN_SECRET_ACCESS_KEY")
    if (key_id is None) != (secret is None):
        raise ConfigError(
            "set both LAYERPORT_ADMIN_ACCESS_KEY_ID and LAYERPORT_ADMIN_SECRET_ACCESS_KEY, "
            "or neither"
        )
    if key_id is not None and not re.fullmatch(r"[A-Z0-9]{16,128}", key_id):
        raise ConfigError(
            "LAYERPORT_ADMIN_ACCESS_KEY_ID must be 16-128 upper-case letters or digits"
        )
    workers = workers if workers is not None else _int("WORKERS", _env("WORKERS"), 1)
    if not 1 <= workers <= 64:
        raise ConfigError(f"--workers must be 1..64, not {workers}")
    if rate_limit is None:
        raw_rate = _env("RATE_LIMIT")
        try:
            rate_limit = float(raw_rate) if raw_rate is not None else 0.0
        except ValueError:
            raise ConfigError(f"LAYERPORT_RATE_LIMIT must be a number, not {raw_rate!r}") from None
    if rate_limit < 0:
        raise ConfigError(f"--rate-limit must not be negative, not {rate_limit}")
    max_uploads = _int("MAX_UPLOADS", _env("MAX_UPLOADS"), 10_000)
    max_parts = _int("MAX_PARTS", _env("MAX_PARTS"), 4200)
    if max_uploads < 1 or max_parts < 1:
        raise ConfigError("LAYERPORT_MAX_UPLOADS and LAYERPORT_MAX_PARTS must be at least 1")
    if create_on_push is None:
        create_on_push = _bool("CREATE_ON_PUSH", _env("CREATE_ON_PUSH"))
    return Settings(
        host=host,
        port=port,
        data_dir=data,
        region=region,
        public_url=public_url,
        account_id=account_id,
        database_url=database_url,
        store_url=store_url,
        presign_expires=expires,
        admin_access_key_id=key_id,
        admin_secret_access_key=secret,
        create_on_push=create_on_push,
        workers=workers,
        rate_limit=rate_limit,
        max_uploads=max_uploads,
        max_parts=max_parts,
    )


def _int(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"LAYERPORT_{name} must be a whole number, not {raw!r}") from None


def _bool(name: str, raw: str | None) -> bool:
    if raw is None:
        return False
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"LAYERPORT_{name} must be true or false, not {raw!r}")


def _default_public_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - only compared
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
