"""``layerport db upgrade``: bring the metadata schema to the newest migration.

``serve`` does this on start too (PostgreSQL replicas take turns under an
advisory lock); the command exists so operators can migrate before a rollout.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from layerport.config import ConfigError, load_settings


@click.group()
def db() -> None:
    """Manage the metadata database."""


@db.command()
@click.option("--database", "database_url", help="Database URL.  [env LAYERPORT_DATABASE]")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory whose SQLite file to use when no --database is given.",
)
def upgrade(database_url: str | None, data_dir: Path | None) -> None:
    """Apply every migration the database does not have yet."""
    from layerport.store.metadata import migrate

    try:
        settings = load_settings(database_url=database_url, data_dir=data_dir)
    except ConfigError as exc:
        click.echo(f"layerport: {exc}", err=True)
        sys.exit(2)

    async def run() -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await migrate.upgrade_database(settings.database_url)

    try:
        asyncio.run(run())
    except ConfigError as exc:
        click.echo(f"layerport: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # any failure: one clear line instead of a traceback
        click.echo(f"layerport: cannot upgrade: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    click.echo(
        f"layerport: the database is at the newest schema ({settings.database_url.split('@')[-1]})"
    )
