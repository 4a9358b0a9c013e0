"""``layerport serve``: run the registry; each flag mirrors a ``Settings`` field."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from layerport.config import ConfigError, load_settings


@click.command()
@click.option("--host", help="Address to listen on.  [env LAYERPORT_HOST; default 127.0.0.1]")
@click.option("--port", type=int, help="Port to listen on.  [env LAYERPORT_PORT; default 5000]")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory of the embedded default.  [env LAYERPORT_DATA_DIR; "
    "default ~/.local/share/layerport]",
)
@click.option(
    "--region", help="AWS region to answer as.  [env LAYERPORT_REGION; default us-east-1]"
)
@click.option(
    "--public-url",
    help="Base URL clients use to reach this server.  [env LAYERPORT_PUBLIC_URL; "
    "default http://HOST:PORT]",
)
@click.option(
    "--account-id",
    help="Registry id (12 digits) of the default account.  [env LAYERPORT_ACCOUNT_ID; "
    "default 000000000000]",
)
@click.option(
    "--database",
    "database_url",
    help="Metadata database URL.  [env LAYERPORT_DATABASE; default SQLite in the data dir]",
)
@click.option(
    "--store",
    "store_url",
    help="Blob store URL.  [env LAYERPORT_STORE; default file:// in the data dir]",
)
@click.option(
    "--presign-expires",
    type=int,
    help="Lifetime of pre-signed layer URLs, seconds.  [env LAYERPORT_PRESIGN_EXPIRES; "
    "default 3600]",
)
@click.option(
    "--create-on-push/--no-create-on-push",
    default=None,
    help="Create a missing repository when an image is pushed to it.  "
    "[env LAYERPORT_CREATE_ON_PUSH; default off, as in ECR]",
)
@click.option(
    "--workers",
    type=int,
    help="Server processes sharing the port.  [env LAYERPORT_WORKERS; default 1]",
)
@click.option(
    "--rate-limit",
    type=float,
    help="Requests a second allowed per access key (per process).  "
    "[env LAYERPORT_RATE_LIMIT; default 0, unlimited]",
)
@click.option(
    "--log-level",
    envvar="LAYERPORT_LOG_LEVEL",
    default="INFO",
    show_default=True,
    help="Python logging level.  [env LAYERPORT_LOG_LEVEL]",
)
def serve(log_level: str, **flags: object) -> None:
    """Run the registry: ECR JSON API, OCI registry API and blob downloads on one port."""
    from layerport.app import run  # imported late: `layerport --help` stays fast

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aiosqlite logs every statement with its parameters at DEBUG, secrets included.
    logging.getLogger("aiosqlite").setLevel(
        max(logging.getLogger().getEffectiveLevel(), logging.INFO)
    )
    try:
        settings = load_settings(**flags)  # type: ignore[arg-type]
    except ConfigError as exc:
        click.echo(f"layerport: {exc}", err=True)
        sys.exit(2)
    run(settings)
