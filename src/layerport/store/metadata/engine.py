"""Engine creation for the metadata store: aiosqlite (embedded) or asyncpg (PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from layerport.config import ConfigError

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def normalise_url(url: str) -> str:
    """Give a plain ``sqlite:`` or ``postgresql:`` URL its async driver."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigError(f"--database {url!r} is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ConfigError(f"--database {url!r}: use sqlite:/// or postgresql:// URLs")
    return parsed.set(drivername=_DRIVERS[backend]).render_as_string(hide_password=False)


def create_engine(url: str) -> AsyncEngine:
    """An async engine with the settings each backend needs to be safe and fast."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # A fixed pool: each aiosqlite connection is a thread, and overflow connections
        # would be opened and closed (with their PRAGMAs) on every burst.
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=8, max_overflow=0, pool_timeout=60
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; foreign keys make the cascades real;
    # busy_timeout waits for the writer instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
