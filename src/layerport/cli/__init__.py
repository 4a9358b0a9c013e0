"""The ``layerport`` command: ``serve``, ``ecr <operation>`` and admin commands."""

from __future__ import annotations

import click

from layerport import __version__
from layerport.cli.admin import admin
from layerport.cli.db import db
from layerport.cli.ecr import ecr
from layerport.cli.serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="layerport")
def cli() -> None:
    """layerport: an Amazon ECR-compatible container registry."""


cli.add_command(serve)
cli.add_command(ecr)
cli.add_command(db)
cli.add_command(admin)


def main() -> None:
    """Entry point of the ``layerport`` console script."""
    cli()
