"""The botocore model drives validation, and the operation table matches the model."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any, cast

from layerport import ecr_model
from layerport.faces import ecr_codec
from layerport.service import Service


def violations(operation: str, params: dict[str, object]) -> list[tuple[str, str]]:
    model = ecr_model.operation_model(operation)
    assert model is not None
    decoded = ecr_codec.decode(model.input_shape, params)
    return list(ecr_model.constraint_violations(model.input_shape, decoded))


def test_patterns_are_full_match() -> None:
    # "abc/" would pass a search but not a full match of the repository-name pattern
    found = violations("GetDownloadUrlForLayer", {"repositoryName": "abc/", "layerDigest": "a:b"})
    assert found and found[0][0] == "repositoryName"
    assert "regular expression" in found[0][1]


def test_required_lengths_ranges_and_enums() -> None:
    assert violations("GetDownloadUrlForLayer", {"repositoryName": "ab"}) == [
        ("layerDigest", "Member must not be null")
    ]
    assert violations("CreateRepository", {"repositoryName": "a"})[0][1].startswith(
        "Member must have length greater than or equal to 2"
    )
    assert (
        "enum value set"
        in violations(
            "CreateRepository", {"repositoryName": "ab", "imageTagMutability": "SOMETIMES"}
        )[0][1]
    )
    assert (
        "value less than or equal to 1000"
        in violations("ListImages", {"repositoryName": "ab", "maxResults": 1001})[0][1]
    )


def test_nested_members_are_named() -> None:
    found = violations("BatchGetImage", {"repositoryName": "ab", "imageIds": [{"imageTag": ""}]})
    assert found[0][0] == "imageIds.1.member.imageTag"


def operations() -> dict[str, object]:
    # The table is built from the parts' bound methods; no store is touched.
    return dict(Service(cast(Any, None)).operations)


def test_every_operation_is_in_the_model() -> None:
    table = operations()
    assert set(table) <= set(ecr_model.service_model().operation_names)
    assert len(table) >= 14


def test_each_module_raises_only_errors_its_operations_list() -> None:
    # Every *Exception a service module names must be listed by one of the
    # operations that module implements, or be an error all AWS services share.
    by_module: dict[str, set[str]] = {}
    for name, method in operations().items():
        module = sys.modules[method.__module__]  # type: ignore[attr-defined]
        by_module.setdefault(module.__file__ or "", set()).update(ecr_model.error_codes(name))
    common = {"AccessDeniedException", "Exception"}
    for path, allowed in by_module.items():
        names = {
            node.id
            for node in ast.walk(ast.parse(Path(path).read_text()))
            if isinstance(node, ast.Name) and node.id.endswith("Exception")
        }
        assert names <= allowed | common, f"{path} raises {names - allowed - common}"


def test_the_cli_offers_exactly_the_operations_the_server_serves() -> None:
    from layerport.cli.ecr import OPERATIONS

    assert sorted(OPERATIONS) == sorted(operations())
