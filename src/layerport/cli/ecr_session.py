"""The botocore session and ECR client behind ``layerport ecr``, with local defaults.

A local user should need no AWS configuration, so each setting falls back to
layerport's own defaults only after the AWS ones:

* endpoint: ``--endpoint-url``; else ``AWS_ENDPOINT_URL_ECR``/``AWS_ENDPOINT_URL``
  (botocore resolves those itself); else ``LAYERPORT_ENDPOINT_URL``; else
  ``http://127.0.0.1:5000``;
* credentials: ``--profile``; else the AWS chain when ``AWS_ACCESS_KEY_ID`` or a
  profile variable is set; else profile ``layerport`` of
  ``<data-dir>/credentials`` when ``layerport serve`` wrote one; else the AWS chain;
* region: ``--region``; else ``AWS_REGION``; else the AWS configuration
  (``AWS_DEFAULT_REGION``, the profile); else ``us-east-1``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ProfileNotFound
from botocore.utils import parse_timestamp

from layerport import __version__
from layerport.config import (
    ADMIN_PROFILE,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_REGION,
    default_data_dir,
)

DEFAULT_ENDPOINT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
_AWS_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_ECR", "AWS_ENDPOINT_URL")
_AWS_IDENTITY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
_LOG_FORMAT = "%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s"
# The aws CLI's own session variables: AWS_DEFAULT_OUTPUT and the profile's ``output``.
_SESSION_VARIABLES = {
    "output": ("output", "AWS_DEFAULT_OUTPUT", "json", None),
    "ca_bundle": ("ca_bundle", "AWS_CA_BUNDLE", None, None),
}


@dataclass(frozen=True)
class GlobalArgs:
    """The global options, from before or after the operation name (the last one wins)."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    output: str | None = None
    query: str | None = None
    no_paginate: bool = False
    color: str | None = None
    no_verify_ssl: bool = False
    ca_bundle: str | None = None
    read_timeout: int | None = None
    connect_timeout: int | None = None
    no_sign_request: bool = False
    debug: bool = False

    @property
    def paginate(self) -> bool:
        return not self.no_paginate


def check_endpoint_url(url: str) -> None:
    """Reject an endpoint without a scheme, with the aws CLI's message."""
    if not urlsplit(url).scheme:
        raise ValueError(
            f'Bad value for --endpoint-url "{url}": scheme is missing.  Must be of the form '
            "http://<hostname>/ or https://<hostname>/"
        )


def make_session(args: GlobalArgs) -> Any:
    """A botocore session with the profile, credentials file and response parsing chosen."""
    session = botocore.session.Session(session_vars=_SESSION_VARIABLES)
    session.user_agent_name = "layerport"
    session.user_agent_version = __version__
    if args.profile:
        session.set_config_variable("profile", args.profile)
    elif not any(os.environ.get(name) for name in _AWS_IDENTITY_VARIABLES):
        credentials = default_data_dir() / "credentials"
        if credentials.is_file():
            session.set_config_variable("credentials_file", str(credentials))
            session.set_config_variable("profile", ADMIN_PROFILE)
    if args.debug:
        for logger in ("botocore", "urllib3"):
            session.set_stream_logger(logger, logging.DEBUG, format_string=_LOG_FORMAT)
    _set_scalar_parsers(session)
    return session


def _set_scalar_parsers(session: Any) -> None:
    # Like the aws CLI v1: blobs stay base64 and timestamps print as they came
    # over the wire (epoch seconds) unless the profile sets cli_timestamp_format.
    try:
        timestamp_format = session.get_scoped_config().get("cli_timestamp_format", "wire")
    except ProfileNotFound:
        timestamp_format = "wire"
    if timestamp_format in ("wire", "none"):
        timestamp_parser: Any = _identity
    elif timestamp_format == "iso8601":
        timestamp_parser = _iso8601
    else:
        raise ValueError(
            f"Unknown cli_timestamp_format value: {timestamp_format}, valid values"
            ' are "none", "wire" or "iso8601"'
        )
    factory = session.get_component("response_parser_factory")
    factory.set_parser_defaults(blob_parser=_identity, timestamp_parser=timestamp_parser)


def _identity(value: Any) -> Any:
    return value


def _iso8601(value: Any) -> str:
    return str(parse_timestamp(value).isoformat())


def resolve_region(session: Any, args: GlobalArgs) -> str:
    """``--region``, ``AWS_REGION``, the AWS configuration, then layerport's default."""
    return str(
        args.region
        or os.environ.get("AWS_REGION")
        or session.get_config_variable("region")
        or DEFAULT_REGION
    )


def resolve_endpoint_url(args: GlobalArgs) -> str | None:
    """The endpoint to pass to botocore; None lets botocore apply ``AWS_ENDPOINT_URL*``."""
    if args.endpoint_url:
        return args.endpoint_url
    if any(os.environ.get(name) for name in _AWS_ENDPOINT_VARIABLES):
        return None
    return os.environ.get("LAYERPORT_ENDPOINT_URL") or DEFAULT_ENDPOINT_URL


def make_client(session: Any, args: GlobalArgs) -> Any:
    """An ECR client that signs with SigV4 for the resolved region and endpoint."""
    config: dict[str, Any] = {}
    for name, value in (
        ("read_timeout", args.read_timeout),
        ("connect_timeout", args.connect_timeout),
    ):
        if value is not None:
            # 0 means "block forever", as it does for the aws CLI.
            config[name] = None if value == 0 else value
    if args.no_sign_request:
        config["signature_version"] = UNSIGNED
    verify: bool | str | None = False if args.no_verify_ssl else args.ca_bundle
    return session.create_client(
        "ecr",
        region_name=resolve_region(session, args),
        endpoint_url=resolve_endpoint_url(args),
        verify=verify,
        config=Config(**config) if config else None,
    )
