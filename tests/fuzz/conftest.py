"""One real server per fuzz module, so generated garbage in one module cannot steer another.

``LAYERPORT_FUZZ_DATABASE=postgresql`` runs the modules against PostgreSQL
instead of SQLite (the consistency checks read SQLite and skip there).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from tests.support import Server, drop_postgres_database, postgres_database

_databases = itertools.count()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of the module's own; at the end its log must hold no traceback.

    A traceback means an exception escaped somewhere a status code does not show
    (for example after a response had started), which is a bug even without a 5xx.
    """
    tag = None
    if os.environ.get("LAYERPORT_FUZZ_DATABASE") == "postgresql":
        tag = f"lp_fuzz_{os.getpid()}_{next(_databases)}"
    database = postgres_database(tag) if tag else None
    instance = Server(tmp_path_factory.mktemp("fuzz") / "data", database=database).start()
    yield instance
    instance.stop()
    if tag:
        drop_postgres_database(tag)
    log = instance.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-5000:]
