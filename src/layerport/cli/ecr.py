"""``layerport ecr <operation>``: the ECR API from the shell, option for option as ``aws ecr``.

Options come from botocore's ECR model (see :mod:`layerport.cli.ecr_args`), calls
go through a real botocore client, and output, skeletons and errors are
byte-identical to the aws CLI v1 so that scripts can switch between the two.
The order of checks follows awscli's ``clidriver``: global options, then the
operation's options (usage errors exit 2), then values, ``--cli-input-json``,
skeletons, the call; anything that fails after parsing prints
``\\n<message>\\n`` and exits 255.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import Any

import botocore.session
import click
import jmespath
from botocore import xform_name
from botocore.exceptions import NoCredentialsError, PaginationError
from botocore.stub import Stubber
from botocore.utils import ArgumentGenerator

from layerport.cli.ecr_args import (
    GLOBAL_OPTIONS,
    CLIArgParser,
    MemberArgument,
    UnknownOptionsError,
    global_parser,
    load_paramfile,
    member_arguments,
    merge_cli_input_json,
    operation_parser,
    required_args_waived,
    summary,
    unpack,
)
from layerport.cli.ecr_output import json_default, print_response
from layerport.cli.ecr_session import (
    GlobalArgs,
    check_endpoint_url,
    make_client,
    make_session,
)

# The ECR operations layerport serves; a new server operation is added here too.
OPERATIONS: tuple[str, ...] = (
    "CreateRepository",
    "DescribeRepositories",
    "DeleteRepository",
    "InitiateLayerUpload",
    "UploadLayerPart",
    "CompleteLayerUpload",
    "BatchCheckLayerAvailability",
    "PutImage",
    "BatchGetImage",
    "GetDownloadUrlForLayer",
    "GetAuthorizationToken",
    "ListImages",
    "DescribeImages",
    "BatchDeleteImage",
    "SetRepositoryPolicy",
    "GetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)
_BY_CLI_NAME = {xform_name(name, "-"): name for name in OPERATIONS}
_GLOBALS_KEY = "layerport.ecr.globals"
_PAGING_ARGS = ("starting_token", "page_size", "max_items")


@cache
def _botocore_session() -> Any:
    return botocore.session.get_session()


def service_model() -> Any:
    """botocore's ECR service model, loaded once per process."""
    return _botocore_session().get_service_model("ecr")


def paginator_config(operation: str) -> dict[str, Any] | None:
    """The paginator of ``operation`` in botocore's ECR data, or None."""
    model = _botocore_session().get_paginator_model("ecr")
    try:
        return dict(model.get_paginator(operation))
    except ValueError:
        return None


def build_parser(operation: str, *, enforce_required: bool = True) -> CLIArgParser:
    """The argparse parser of one operation's options (tests list its options from it)."""
    operation_model = service_model().operation_model(operation)
    return operation_parser(
        xform_name(operation, "-"),
        operation_model,
        member_arguments(operation_model),
        int if paginator_config(operation) is not None else None,
        enforce_required=enforce_required,
    )


def run(operation: str, args: list[str]) -> int:
    """Run one operation with its raw arguments; return the process exit code.

    args: the global options given before the operation name (as arguments),
    then everything after it.
    """
    try:
        return _run(operation, args)
    except UnknownOptionsError as error:
        sys.stderr.write(f"usage: layerport ecr {xform_name(operation, '-')} [parameters]\n")
        sys.stderr.write(f"{error}\n")
        return 255
    except NoCredentialsError as error:
        sys.stderr.write(
            f'{error}. You can configure credentials by running "aws configure", '
            'or start "layerport serve", which writes <data-dir>/credentials.\n'
        )
        return 255
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 130
    except Exception as error:  # the aws CLI's last resort: one message, exit 255
        sys.stderr.write(f"\n{error}\n")
        return 255


def _run(operation: str, args: list[str]) -> int:
    cli_name = xform_name(operation, "-")
    known, rest = global_parser(cli_name).parse_known_args(args)
    options = GlobalArgs(**vars(known))
    query = _compile_query(options.query)
    if options.endpoint_url is not None:
        check_endpoint_url(options.endpoint_url)

    operation_model = service_model().operation_model(operation)
    arguments = member_arguments(operation_model)
    paging = paginator_config(operation)
    parser = build_parser(operation, enforce_required=not required_args_waived(rest))
    if rest == ["help"] or "--help" in rest or "-h" in rest:
        parser.usage = f"layerport ecr {cli_name} [options]"
        sys.stdout.write(parser.format_help())
        return 0
    parsed, remaining = parser.parse_known_args(rest)
    if parsed.help:
        remaining.append(parsed.help)
    if remaining:
        raise UnknownOptionsError(f"Unknown options: {', '.join(remaining)}")

    paginate = _check_pagination(parsed, paging, arguments, options.paginate)
    parameters = _call_parameters(parsed, arguments, paging is not None)
    if parsed.cli_input_json is not None:
        merge_cli_input_json(parameters, parsed.cli_input_json)

    if parsed.generate_cli_skeleton == "input":
        shape = operation_model.input_shape
        skeleton = ArgumentGenerator().generate_skeleton(shape) if shape is not None else {}
        sys.stdout.write(json.dumps(skeleton, indent=4, default=json_default) + "\n")
        return 0
    session = make_session(options)
    client = make_client(session, options)
    method = xform_name(operation)
    if parsed.generate_cli_skeleton == "output":
        response = _stubbed_call(client, operation_model, method, parameters)
    elif paginate and client.can_paginate(method):
        response = client.get_paginator(method).paginate(**parameters)
    else:
        response = getattr(client, method)(**parameters)
    print_response(
        operation,
        response,
        sys.stdout,
        output=options.output or session.get_config_variable("output"),
        query=query,
        color=options.color or "auto",
    )
    return 0


def _compile_query(expression: str | None) -> Any:
    if expression is None:
        return None
    try:
        return jmespath.compile(expression)
    except Exception as error:  # jmespath raises several unrelated types
        raise ValueError(f"Bad value for --query {expression}: {error}") from None


def _check_pagination(
    parsed: Any, paging: dict[str, Any] | None, arguments: list[MemberArgument], paginate: bool
) -> bool:
    """Whether to paginate: not with ``--no-paginate``, nor with the model's own token options."""
    if paging is None:
        return paginate
    tokens = paging["input_token"]
    names = [*(tokens if isinstance(tokens, list) else [tokens])]
    if "limit_key" in paging:
        names.append(paging["limit_key"])
    manual = {xform_name(name) for name in names}
    if any(getattr(parsed, a.dest) is not None for a in arguments if a.dest in manual):
        paginate = False
    if not paginate:
        used = [f"--{name.replace('_', '-')}" for name in _PAGING_ARGS if getattr(parsed, name)]
        if used:
            raise PaginationError(
                message="Cannot specify --no-paginate along with pagination arguments: "
                + ", ".join(used)
            )
    return paginate


def _call_parameters(
    parsed: Any, arguments: list[MemberArgument], paginated: bool
) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for arg in arguments:
        value = getattr(parsed, arg.dest)
        if value is None:
            continue
        parameters[arg.member] = value if isinstance(value, bool) else unpack(arg, value)
    if not paginated:
        return parameters
    config: dict[str, Any] = {}
    for dest, key in zip(_PAGING_ARGS, ("StartingToken", "PageSize", "MaxItems"), strict=True):
        value = getattr(parsed, dest)
        if value is None:
            continue
        if dest == "starting_token":
            value = load_paramfile("--starting-token", value)
        if dest == "max_items" and value <= 0:
            sys.stderr.write(
                "warning: Non-positive values for --max-items may result in undefined behavior.\n"
            )
        config[key] = value
    if config:
        parameters["PaginationConfig"] = config
    return parameters


def _stubbed_call(client: Any, operation_model: Any, method: str, parameters: Any) -> Any:
    """Validate ``parameters`` and answer with a sample response, without sending anything.

    This is ``--generate-cli-skeleton output``: the sample is botocore's
    ``ArgumentGenerator`` output with member names as values, as the aws CLI's.
    """
    sample: dict[str, Any] = {}
    if operation_model.output_shape is not None:
        generator = ArgumentGenerator(use_member_names=True)
        sample = generator.generate_skeleton(operation_model.output_shape)
    with Stubber(client) as stubber:
        stubber.add_response(method, sample)
        return getattr(client, method)(**parameters)


class _OperationCommand(click.Command):
    """One operation; its arguments bypass click and go to the aws-compatible parser."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        super().__init__(
            name=xform_name(operation, "-"),
            short_help=summary(service_model().operation_model(operation).documentation),
            add_help_option=False,
            context_settings={"ignore_unknown_options": True},
        )

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.args = list(args)
        return []

    def invoke(self, ctx: click.Context) -> Any:
        ctx.exit(run(self.operation, [*ctx.meta.get(_GLOBALS_KEY, []), *ctx.args]))


class _EcrGroup(click.Group):
    """Operations from :data:`OPERATIONS`, built on demand so other commands skip the model."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_BY_CLI_NAME)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        operation = _BY_CLI_NAME.get(cmd_name)
        return _OperationCommand(operation) if operation else None


def _with_global_options(function: Any) -> Any:
    # Values stay strings here: the operation re-parses them with argparse, so
    # a bad value fails with the same message before or after the operation.
    for option in reversed(GLOBAL_OPTIONS):
        if option.flag:
            decorator = click.option(
                f"--{option.name}", option.dest, is_flag=True, default=False, help=option.help
            )
        else:
            choices = f" [{'|'.join(option.choices)}]" if option.choices else ""
            decorator = click.option(
                f"--{option.name}", option.dest, default=None, help=option.help + choices
            )
        function = decorator(function)
    return function


@click.group(cls=_EcrGroup)
@_with_global_options
@click.pass_context
def ecr(ctx: click.Context, /, **options: Any) -> None:
    """Call the ECR API of a layerport server, exactly as `aws ecr` would.

    Global options may also follow the operation name, as with the aws CLI.
    """
    args: list[str] = []
    for option in GLOBAL_OPTIONS:
        value = options[option.dest]
        if option.flag and value:
            args.append(f"--{option.name}")
        elif not option.flag and value is not None:
            args += [f"--{option.name}", value]
    ctx.meta[_GLOBALS_KEY] = args
