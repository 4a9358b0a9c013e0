"""Migrations and the table definitions never drift apart (warehouse's `db check`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from layerport.store.metadata import migrate
from layerport.store.metadata.engine import create_engine
from layerport.store.metadata.tables import metadata


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    async def diff() -> list[object]:
        engine = create_engine(f"sqlite:///{tmp_path / 'check.db'}")
        try:
            await migrate.upgrade(engine)
            async with engine.connect() as conn:

                def compare(sync: Connection) -> list[object]:
                    context = MigrationContext.configure(sync, opts={"compare_type": True})
                    return list(compare_metadata(context, metadata))

                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    assert asyncio.run(diff()) == []


def test_upgrade_twice_is_a_no_op(tmp_path: Path) -> None:
    async def twice() -> None:
        engine = create_engine(f"sqlite:///{tmp_path / 'twice.db'}")
        try:
            await migrate.upgrade(engine)
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(twice())
