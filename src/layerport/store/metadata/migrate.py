"""Run Alembic migrations to head on an async engine (``layerport db upgrade`` and start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from layerport.store.metadata.engine import connect, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at layerport's migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision.

    On PostgreSQL a transaction-scoped advisory lock makes concurrent replicas
    take turns, so exactly one of them runs each migration.
    """
    conn = await connect(engine)
    try:
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7061726)")
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
    finally:
        await conn.close()


async def upgrade_database(url: str) -> None:
    """Migrate the database at ``url`` on an engine of its own with no statement timeout.

    Serving engines bound every statement; a migration, or a replica waiting on
    the migration lock while another runs one, must not be cut short by that.
    """
    engine = create_engine(url, command_timeout=None)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
