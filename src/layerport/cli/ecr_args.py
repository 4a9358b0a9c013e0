"""Command-line arguments of ``layerport ecr <operation>``, generated from the ECR model.

Every input member becomes an option named as the aws CLI names it
(``xform_name(member, "-")``) and is parsed the way awscli's argument classes
parse it, so that a command line written for ``aws ecr`` works unchanged:

* scalars take one value; ``long`` is checked by argparse, ``integer`` later;
* booleans are a ``--force`` / ``--no-force`` pair;
* lists take several values (``--layer-digests a b``) or one JSON list;
* structures and lists of structures take JSON or flat shorthand;
* any value may be ``file://path`` (text) or ``fileb://path`` (bytes), which is
  how ``--layer-part-blob`` takes a file's bytes;
* missing required members fail with argparse's message and exit code 2,
  unless ``--cli-input-json`` or an input ``--generate-cli-skeleton`` is given.

Remote ``http(s)://`` parameter files, which the aws CLI v1 fetches by default,
are deliberately not fetched: a value is never silently replaced by a download.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any, NoReturn

from botocore import xform_name

from layerport.cli.ecr_output import OUTPUT_CHOICES
from layerport.cli.ecr_shorthand import ShorthandParseError, coerce_to_shape, parse_shorthand

SKELETON_CHOICES = ("input", "output")


class ParamError(Exception):
    """A value could not be turned into a parameter; printed like the aws CLI's ParamError."""

    def __init__(self, cli_name: str, message: str) -> None:
        super().__init__(f"Error parsing parameter '{cli_name}': {message}")


class UnknownOptionsError(Exception):
    """Arguments no option consumed; the aws CLI reports these with exit code 255, not 2."""


class CLIArgParser(argparse.ArgumentParser):
    """argparse with the aws CLI's "Invalid choice" message and layerport's usage text."""

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # Overridden, as awscli's CLIArgParser does, for its two-column choice list.
        choices = action.choices
        if choices is not None and value not in choices:
            names = list(choices)
            lines = ["Invalid choice, valid choices are:\n"]
            for i in range(0, len(names), 2):
                lines.append(" | ".join(f"{choice:<40}" for choice in names[i : i + 2]))
            possible = get_close_matches(value, names, cutoff=0.8)
            if possible:
                lines.append(f"\n\nInvalid choice: {value!r}, maybe you meant:\n")
                lines.extend(f"  * {word}" for word in possible)
            raise argparse.ArgumentError(action, "\n".join(lines))

    def error(self, message: str) -> NoReturn:
        """Print usage and ``layerport: error: …`` to stderr and exit 2, as argparse does."""
        self.print_usage(sys.stderr)
        self.exit(2, f"layerport: error: {message}\n")


@dataclass(frozen=True)
class GlobalOption:
    """One of the aws CLI's top-level options that layerport supports."""

    name: str
    dest: str
    help: str
    flag: bool = False
    choices: tuple[str, ...] | None = None
    type: type = str


GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption("endpoint-url", "endpoint_url", "URL of the layerport server."),
    GlobalOption("region", "region", "The region to sign requests for."),
    GlobalOption("profile", "profile", "A profile from the AWS shared credentials file."),
    GlobalOption("output", "output", "The formatting style.", choices=OUTPUT_CHOICES),
    GlobalOption("query", "query", "A JMESPath query to filter the response with."),
    GlobalOption("no-paginate", "no_paginate", "Make one call only.", flag=True),
    GlobalOption("color", "color", "Colour table output.", choices=("on", "off", "auto")),
    GlobalOption("no-verify-ssl", "no_verify_ssl", "Skip TLS verification.", flag=True),
    GlobalOption("ca-bundle", "ca_bundle", "CA bundle to verify TLS with."),
    GlobalOption("cli-read-timeout", "read_timeout", "Socket read timeout (s).", type=int),
    GlobalOption("cli-connect-timeout", "connect_timeout", "Connect timeout (s).", type=int),
    GlobalOption("no-sign-request", "no_sign_request", "Send unsigned requests.", flag=True),
    GlobalOption("debug", "debug", "Log botocore's debug output.", flag=True),
)


def _usage(cli_name: str) -> str:
    return (
        f"layerport ecr {cli_name} [parameters]\n"
        f"To see help text, you can run:\n\n  layerport ecr {cli_name} help\n"
    )


def global_parser(cli_name: str) -> CLIArgParser:
    """A parser for the global options, which may appear anywhere after the operation name."""
    parser = CLIArgParser(prog="layerport", add_help=False, usage=_usage(cli_name))
    for option in GLOBAL_OPTIONS:
        if option.flag:
            parser.add_argument(f"--{option.name}", dest=option.dest, action="store_true")
        else:
            parser.add_argument(
                f"--{option.name}", dest=option.dest, choices=option.choices, type=option.type
            )
    return parser


@dataclass(frozen=True)
class MemberArgument:
    """An option generated from one member of an operation's input shape."""

    name: str
    member: str
    shape: Any
    required: bool

    @property
    def cli_name(self) -> str:
        return f"--{self.name}"

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


def member_arguments(operation_model: Any) -> list[MemberArgument]:
    """The operation's input members as options, in model order (argparse reports in this order)."""
    shape = operation_model.input_shape
    if shape is None:
        return []
    required = set(shape.required_members)
    return [
        MemberArgument(
            name=xform_name(name, "-"),
            member=name,
            shape=member,
            required=name in required and not member.metadata.get("idempotencyToken", False),
        )
        for name, member in shape.members.items()
    ]


def summary(documentation: str) -> str:
    """The first sentence of a model docstring, without its HTML."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", documentation)).strip()
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


def operation_parser(
    cli_name: str,
    operation_model: Any,
    arguments: list[MemberArgument],
    paging_type: type | None,
    *,
    enforce_required: bool,
) -> CLIArgParser:
    """Build the argparse parser for one operation.

    paging_type: the type of ``--page-size``/``--max-items`` for a paginated
    operation (int), or None when the operation does not paginate.
    """
    parser = CLIArgParser(
        prog="layerport",
        add_help=False,
        usage=_usage(cli_name),
        description=summary(operation_model.documentation),
        formatter_class=argparse.RawTextHelpFormatter,
    )
    for arg in arguments:
        doc = f"({arg.shape.type_name}) {summary(arg.shape.documentation)}".replace("%", "%%")
        if arg.shape.type_name == "boolean":
            # Never enforced as required: awscli's BooleanArgument does not tell argparse.
            parser.add_argument(arg.cli_name, dest=arg.dest, action="store_true", default=None)
            parser.add_argument(
                f"--no-{arg.name}", dest=arg.dest, action="store_false", default=None, help=doc
            )
            continue
        kwargs: dict[str, Any] = {"dest": arg.dest, "help": doc, "metavar": "<value>"}
        kwargs["required"] = arg.required and enforce_required
        if arg.shape.type_name == "list":
            kwargs["nargs"] = "*"
        elif arg.shape.type_name == "long":
            kwargs["type"] = int
        elif arg.shape.type_name in ("float", "double"):
            kwargs["type"] = float
        parser.add_argument(arg.cli_name, **kwargs)
    parser.add_argument(
        "--cli-input-json",
        help="Input as JSON (or file://path) in the --generate-cli-skeleton format;\n"
        "values given on the command line win.",
    )
    if paging_type is not None:
        parser.add_argument("--starting-token", help="The NextToken of a truncated listing.")
        parser.add_argument("--page-size", type=paging_type, help="Items per service call.")
        parser.add_argument("--max-items", type=paging_type, help="Items to print in all.")
    parser.add_argument(
        "--generate-cli-skeleton",
        nargs="?",
        const="input",
        choices=SKELETON_CHOICES,
        help="Print a JSON input skeleton (input, the default) or a sample output\n"
        "(output, after validating the input) without sending a request.",
    )
    parser.add_argument("help", nargs="?", help=argparse.SUPPRESS)
    return parser


def required_args_waived(args: list[str]) -> bool:
    """Whether required options are waived, by the aws CLI's exact-token rule."""
    if "--cli-input-json" in args:
        return True
    if "--generate-cli-skeleton" in args:
        at = args.index("--generate-cli-skeleton")
        return at + 1 >= len(args) or args[at + 1] != "output"
    return False


def load_paramfile(cli_name: str, value: Any) -> Any:
    """Replace ``file://`` and ``fileb://`` values by the file's text or bytes."""
    candidate = value[0] if isinstance(value, list) and len(value) == 1 else value
    if not isinstance(candidate, str):
        return value
    for prefix, mode in (("file://", "r"), ("fileb://", "rb")):
        if candidate.startswith(prefix):
            # Not Path(): it would turn "./x" into "x" in the aws CLI's error text.
            path = os.path.expanduser(os.path.expandvars(candidate[len(prefix) :]))  # noqa: PTH111
            try:
                with open(path, mode) as handle:
                    data: str | bytes = handle.read()
            except UnicodeDecodeError:
                raise ParamError(
                    cli_name,
                    f"Unable to load paramfile ({path}), text contents could not be decoded.  "
                    "If this is a binary file, please use the fileb:// prefix instead of the "
                    "file:// prefix.",
                ) from None
            except OSError as error:
                raise ParamError(
                    cli_name, f"Unable to load paramfile {candidate}: {error}"
                ) from None
            return data
    return value


def unpack(arg: MemberArgument, value: Any) -> Any:
    """Turn one option's command-line value into the parameter botocore expects."""
    value = load_paramfile(arg.cli_name, value)
    if _supports_shorthand(arg.shape) and not _looks_like_json(value):
        try:
            if isinstance(value, list):
                return [coerce_to_shape(parse_shorthand(v), arg.shape.member) for v in value]
            return coerce_to_shape(parse_shorthand(value), arg.shape)
        except ShorthandParseError as error:
            raise ParamError(arg.cli_name, str(error)) from None
    return _unpack_value(arg.shape, value, arg.cli_name)


def _supports_shorthand(shape: Any) -> bool:
    # The aws CLI's rule: complex shapes, except lists of scalars (those take
    # several values).  Nested values inside are refused by the parser.
    if shape.type_name == "list":
        return shape.member.type_name in ("structure", "list", "map")
    return shape.type_name in ("structure", "map")


def _looks_like_json(value: Any) -> bool:
    first = value[0] if isinstance(value, list) and value else value
    return not isinstance(first, str) or first.strip().startswith(("[", "{"))


def _unpack_value(shape: Any, value: Any, cli_name: str) -> Any:
    type_name = shape.type_name
    if type_name in ("integer", "long"):
        return int(value)
    if type_name in ("float", "double"):
        return float(value)
    if type_name == "boolean":
        if isinstance(value, str) and value.lower() == "false":
            return False
        return bool(value)
    if type_name in ("structure", "map"):
        if value.lstrip()[0] == "{":
            return _json(value, cli_name)
        raise ParamError(cli_name, f"Invalid JSON:\n{value}")
    if type_name == "list":
        if isinstance(value, str) and value.lstrip()[0] == "[":
            return _json(value, cli_name)
        if isinstance(value, list) and len(value) == 1:
            single = value[0].strip()
            if single and single[0] == "[":
                return _json(value[0], cli_name)
        try:
            return [_unpack_value(shape.member, v, cli_name) for v in value]
        except (ValueError, TypeError):
            raise ParamError(cli_name, value[0]) from None
    return value


def _json(value: str, cli_name: str) -> Any:
    try:
        return json.loads(value)
    except ValueError as error:
        raise ParamError(cli_name, f"Invalid JSON: {error}\nJSON received: {value}") from None


def merge_cli_input_json(parameters: dict[str, Any], raw: str) -> None:
    """Add the members of ``--cli-input-json`` that the command line did not set.

    Keys pass through untouched (an unedited skeleton's ``"registryId": ""``
    is sent as is); botocore's validator reports unknown ones.
    """
    loaded = load_paramfile("--cli-input-json", raw)
    text = loaded.decode() if isinstance(loaded, bytes) else loaded
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ParamError(
            "cli-input-json", f"Invalid JSON: {error}\nJSON received: {text}"
        ) from None
    if not isinstance(data, dict):
        raise ParamError("cli-input-json", f"Expected a JSON object\nJSON received: {text}")
    for key, value in data.items():
        parameters.setdefault(key, value)
