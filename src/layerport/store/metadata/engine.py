"""Engine creation for the metadata store: aiosqlite (embedded) or asyncpg (PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from layerport.config import ConfigError

_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
#: Seconds to open a PostgreSQL connection, and for any one statement to answer.
POSTGRES_CONNECT_TIMEOUT = 5
POSTGRES_COMMAND_TIMEOUT = 15


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


def create_engine(
    url: str, *, command_timeout: float | None = POSTGRES_COMMAND_TIMEOUT
) -> AsyncEngine:
    """An async engine with the settings each backend needs to be safe and fast.

    command_timeout: PostgreSQL's bound on one statement, in seconds; None (no bound)
    suits long offline work such as a large migration.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        # A fixed pool: each aiosqlite connection is a thread, and overflow connections
        # would be opened and closed (with their PRAGMAs) on every burst.
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=8, max_overflow=0, pool_timeout=60
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Bounded waits: a database that stops answering (a dead link, a hung failover)
    # fails the request with a 5xx instead of holding it for minutes.  Every query
    # layerport makes is small and indexed; a statement running for longer is stuck.
    return create_async_engine(
        url,
        # Enough for a load balancer's 32 concurrent requests without waiting.
        pool_size=20,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={
            "timeout": POSTGRES_CONNECT_TIMEOUT,
            "command_timeout": command_timeout,
        },
    )


async def connect(engine: AsyncEngine) -> AsyncConnection:
    """A first connection; failing to open one is a ConfigError with one line naming the database.

    Start-up and ``db upgrade`` connect through here, so an unreachable server, a
    missing database or refused credentials read as one line, not a driver's
    multi-line error.
    """
    try:
        return await engine.connect()
    except (OSError, DBAPIError) as exc:
        reason = next(iter(str(getattr(exc, "orig", None) or exc).splitlines()), "")
        shown = engine.url.render_as_string(hide_password=True)
        raise ConfigError(
            f"--database {shown}: cannot connect: {reason or type(exc).__name__}"
        ) from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; foreign keys make the cascades real;
    # busy_timeout waits for the writer instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
