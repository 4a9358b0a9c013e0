"""Option names, usage errors and value parsing of ``layerport ecr``, compared with ``aws ecr``.

None of these commands reaches a server: each fails, or stops at a skeleton,
before anything is sent (the endpoint is a closed port).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from botocore import xform_name
from click.testing import CliRunner

from layerport.cli import cli
from layerport.cli.ecr import OPERATIONS, build_parser, service_model
from tests.cli.ecr_cli_support import AWS, Pair, Runner, assert_same, assert_same_usage_error

NOWHERE = ("--endpoint-url", "http://127.0.0.1:9")
DIGEST = "sha256:" + "ab" * 32
SKELETON_OUTPUT = ("--generate-cli-skeleton", "output", *NOWHERE)

# Runs inside the aws CLI's own interpreter, so that importing awscli (which
# re-points "import botocore" at its vendored copy) never touches this process.
AWS_ARG_TABLES = """
import json, sys
from awscli.clidriver import create_clidriver
table = create_clidriver()._get_command_table()["ecr"]._get_command_table()
print(json.dumps({name: sorted(table[name].arg_table) for name in sys.argv[1:]}))
"""


def test_every_operation_exists_in_the_ecr_model() -> None:
    # given
    model_operations = set(service_model().operation_names)

    # when
    missing = [name for name in OPERATIONS if name not in model_operations]

    # then
    assert missing == []
    assert len(set(OPERATIONS)) == len(OPERATIONS) >= 14


def test_group_help_lists_every_operation() -> None:
    # given
    runner = CliRunner()

    # when
    result = runner.invoke(cli, ["ecr", "--help"])

    # then
    assert result.exit_code == 0
    for name in ("get-download-url-for-layer", "upload-layer-part", "batch-delete-image"):
        assert name in result.output


@pytest.mark.interop
def test_options_are_named_exactly_as_the_aws_cli_names_them() -> None:
    # given
    if not AWS.exists():
        pytest.skip("the aws CLI is not installed")
    cli_names = {op: _cli_name(op) for op in OPERATIONS}
    done = subprocess.run(
        [str(AWS.parent / "python"), "-c", AWS_ARG_TABLES, *cli_names.values()],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = json.loads(done.stdout)

    # when
    ours = {
        cli_names[op]: sorted(
            option[2:] for action in build_parser(op)._actions for option in action.option_strings
        )
        for op in OPERATIONS
    }

    # then
    assert ours == theirs


def _cli_name(operation: str) -> str:
    return str(xform_name(operation, "-"))


@pytest.mark.interop
@pytest.mark.parametrize(
    "operation",
    [
        _cli_name(op)
        for op in OPERATIONS
        if service_model().operation_model(op).input_shape.required_members
    ],
)
def test_missing_required_arguments_fail_like_aws(pair: Pair, operation: str) -> None:
    # given / when
    theirs, ours = pair(operation, *NOWHERE)

    # then
    assert_same_usage_error(ours, theirs, rc=2)
    assert "the following arguments are required: --" in ours.last_err_line


@pytest.mark.interop
@pytest.mark.parametrize(
    "args",
    [
        ("get-download-url-for-layer", "--repository-name", "app", "--output", "yaml"),
        ("--output", "xml", "get-download-url-for-layer"),
        ("get-download-url-for-layer", "--generate-cli-skeleton", "both"),
        ("upload-layer-part", "--repository-name", "app", "--upload-id", "u"),
        (
            "upload-layer-part",
            "--repository-name",
            "app",
            "--upload-id",
            "u",
            "--part-first-byte",
            "first",
            "--part-last-byte",
            "1",
            "--layer-part-blob",
            "x",
        ),
        ("batch-check-layer-availability", "--repository-name", "app"),
    ],
    ids=["output-after", "output-before", "skeleton-choice", "required", "long", "list"],
)
def test_usage_errors_exit_2_like_aws(pair: Pair, args: tuple[str, ...]) -> None:
    # given
    command = (*args, *NOWHERE) if args[0] != "--output" else args

    # when
    theirs, ours = pair(*command)

    # then
    assert_same_usage_error(ours, theirs, rc=2)


@pytest.mark.interop
@pytest.mark.parametrize(
    "args",
    [
        # JSON and shorthand errors
        ("batch-get-image", "--repository-name", "app", "--image-ids", "[x"),
        ("batch-get-image", "--repository-name", "app", "--image-ids", "x"),
        ("batch-get-image", "--repository-name", "app", "--image-ids", "imageTag=a,foo=b"),
        ("batch-get-image", "--repository-name", "app", "--image-ids", "imageTag=a,b"),
        ("batch-get-image", "--repository-name", "app", "--image-ids", "imageTag=a,imageTag=b"),
        ("list-images", "--repository-name", "app", "--filter", "tagStatus"),
        ("create-repository", "--repository-name", "app", "--image-scanning-configuration", "x"),
        # scalar conversion and validation
        ("describe-repositories", "--max-results", "many"),
        ("get-download-url-for-layer", "--repository-name", "x", "--layer-digest", DIGEST),
        # --cli-input-json problems
        ("get-download-url-for-layer", "--cli-input-json", '{"repositoryName": "app"'),
        ("get-download-url-for-layer", "--cli-input-json", '{"bogus": 1}'),
        ("get-download-url-for-layer", "--cli-input-json", "file:///nonexistent/input.json"),
        # global options after the operation
        ("describe-repositories", "--query", "repositories[", "--output", "json"),
        ("describe-repositories", "--no-paginate", "--max-items", "3"),
        ("describe-repositories", "--next-token", "t", "--page-size", "3"),
    ],
)
def test_value_errors_exit_255_like_aws(pair: Pair, args: tuple[str, ...]) -> None:
    # given
    command = (*args, *SKELETON_OUTPUT)

    # when
    theirs, ours = pair(*command)

    # then
    assert theirs.rc == 255
    assert_same(ours, theirs)


@pytest.mark.interop
def test_unknown_options_exit_255_like_aws(pair: Pair) -> None:
    # given
    command = ("get-download-url-for-layer", "--repository-name", "app", "--layer-digest", DIGEST)
    command += ("--colour", "red")

    # when
    theirs, ours = pair(*command, *NOWHERE)

    # then
    assert theirs.rc == ours.rc == 255
    assert ours.last_err_line == theirs.last_err_line == "Unknown options: --colour, red"


@pytest.mark.interop
def test_endpoint_url_without_scheme_is_rejected_like_aws(pair: Pair) -> None:
    # given
    command = ("describe-repositories", "--endpoint-url", "localhost:5000")

    # when
    theirs, ours = pair(*command)

    # then
    assert theirs.rc == 255
    assert_same(ours, theirs)


@pytest.mark.interop
@pytest.mark.parametrize(
    "image_ids",
    [
        ("imageTag=v1", "imageDigest=" + DIGEST),
        ("imageDigest=" + DIGEST + ",imageTag=v1",),
        (json.dumps([{"imageTag": "v1"}, {"imageDigest": DIGEST}]),),
        ('{"imageTag": "v1"}', '{"imageTag": "v2"}'),
        ("imageTag='a,b'",),
    ],
    ids=["shorthand-list", "shorthand-pair", "json-list", "json-items", "quoted"],
)
def test_structures_take_json_or_shorthand_like_aws(pair: Pair, image_ids: tuple[str, ...]) -> None:
    # given
    command = ("batch-get-image", "--repository-name", "app", "--image-ids", *image_ids)

    # when
    theirs, ours = pair(*command, *SKELETON_OUTPUT)

    # then: both accepted the value (a rejected one exits 255)
    assert theirs.rc == 0
    assert_same(ours, theirs)


def test_global_options_work_before_and_after_the_operation(layerport: Runner) -> None:
    # given
    op = ("get-download-url-for-layer", "--repository-name", "app", "--layer-digest", DIGEST)

    # when
    after = layerport(*op, *SKELETON_OUTPUT, "--output", "text", "--query", "layerDigest")
    before = layerport("--output", "text", "--query", "layerDigest", *op, *SKELETON_OUTPUT)

    # then
    assert (after.rc, after.out) == (before.rc, before.out) == (0, "layerDigest\n")


def test_layer_part_blob_accepts_fileb(layerport: Runner, tmp_path: Path) -> None:
    # given: bytes that are not valid UTF-8
    blob = tmp_path / "part.bin"
    blob.write_bytes(b"\xff\x00layer")
    command = ("upload-layer-part", "--repository-name", "app", "--upload-id", "u")
    command += ("--part-first-byte", "0", "--part-last-byte", "6")

    # when
    ok = layerport(*command, "--layer-part-blob", f"fileb://{blob}", *SKELETON_OUTPUT)
    text = layerport(*command, "--layer-part-blob", f"file://{blob}", *SKELETON_OUTPUT)

    # then
    assert ok.rc == 0, ok.err
    assert text.rc == 255
    assert "please use the fileb:// prefix" in text.err


@pytest.mark.interop
def test_the_default_output_comes_from_aws_default_output_like_aws(
    pair: Pair, cli_env: dict[str, str]
) -> None:
    # given
    env = {**cli_env, "AWS_DEFAULT_OUTPUT": "table"}
    command = ("get-download-url-for-layer", "--repository-name", "app", "--layer-digest", DIGEST)

    # when
    theirs, ours = pair(*command, *SKELETON_OUTPUT, env=env)

    # then
    assert ours.out.startswith("-----")
    assert_same(ours, theirs)
