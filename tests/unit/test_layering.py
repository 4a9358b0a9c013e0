"""Dependency direction: faces -> service -> store protocols; the service knows no frameworks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "layerport"
FRAMEWORKS = ("aiohttp", "sqlalchemy", "aiobotocore", "alembic", "click")
# The service sees the stores only through their protocols.
CONCRETE = ("layerport.faces", "layerport.store.metadata.sql", "layerport.store.blobs.filesystem")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted((SRC / "service").glob("*.py")), ids=lambda p: p.name)
def test_service_imports_no_framework_and_no_face(path: Path) -> None:
    for name in imports(path):
        assert not name.startswith(FRAMEWORKS), f"{path.name} imports {name}"
        assert not name.startswith("layerport.faces"), f"{path.name} imports {name}"
        assert not name.startswith("layerport.store.metadata.sql"), f"{path.name} imports {name}"
        assert not name.startswith("layerport.store.blobs.filesystem"), (
            f"{path.name} imports {name}"
        )


@pytest.mark.parametrize("path", sorted((SRC / "store").rglob("*.py")), ids=lambda p: p.name)
def test_stores_import_no_service_and_no_face(path: Path) -> None:
    for name in imports(path):
        assert not name.startswith(("layerport.service", "layerport.faces")), f"{path} {name}"
