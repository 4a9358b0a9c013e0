"""The ECR face: ``POST /`` in AWS JSON 1.1 with SigV4, as the aws CLI and boto3 send it.

Each request is authenticated (SigV4 header auth against the caller's access
key), routed by ``X-Amz-Target``, decoded and validated against the botocore
model, handed to one service coroutine, and encoded back.  Errors are
``{"__type": code, "message": ...}`` with the error's HTTP status.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from layerport import ecr_model
from layerport.auth import sigv4
from layerport.auth.principals import AccessKeys, Principal
from layerport.auth.ratelimit import RateLimiter
from layerport.errors import (
    EcrError,
    IncompleteSignatureException,
    InvalidParameterException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    SerializationException,
    ThrottlingException,
    UnknownOperationException,
    UnrecognizedClientException,
)
from layerport.faces import ecr_codec
from layerport.service import Service

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
SIGNING_NAME = "ecr"
#: Largest request body: a 20 MiB layer part, base64-encoded, plus the JSON around it.
MAX_BODY = 28 * 1024 * 1024

_SIGV4_ERRORS: dict[str, type[EcrError]] = {
    "missing": MissingAuthenticationTokenException,
    "incomplete": IncompleteSignatureException,
    "scope": InvalidSignatureException,
    "expired": InvalidSignatureException,
    "mismatch": InvalidSignatureException,
}


def json_response(status: int, payload: dict[str, Any]) -> web.Response:
    """A JSON 1.1 response."""
    return web.Response(
        status=status,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        headers={"Content-Type": CONTENT_TYPE},
    )


def error_response(error: EcrError) -> web.Response:
    """The AWS JSON error shape for ``error``."""
    return json_response(
        error.http_status, {"__type": error.code, "message": error.message, **error.fields}
    )


class EcrFace:
    """The JSON 1.1 endpoint.

    service: runs the operations.
    keys: resolves access keys for SigV4.
    region: the region credential scopes must name.
    limiter: the per-access-key request rate limit.
    """

    def __init__(
        self, service: Service, keys: AccessKeys, region: str, limiter: RateLimiter
    ) -> None:
        self.service = service
        self.keys = keys
        self.region = region
        self.limiter = limiter

    def add_routes(self, app: web.Application) -> None:
        """Mount ``POST /``."""
        app.router.add_post("/", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, decode, validate, call, encode."""
        try:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise InvalidParameterException(
                    f"The request body exceeds the {MAX_BODY} bytes a request may carry "
                    f"(a 20 MiB layer part, base64-encoded)"
                ) from None
            caller = await self.authenticate(request, body)
            operation, params = self.decode(request, body)
            result = await self.service.call(operation, caller, params)
            output = ecr_model.operation_model(operation).output_shape  # type: ignore[union-attr]
            return json_response(200, ecr_codec.encode(output, result) if output else {})
        except EcrError as error:
            return error_response(error)

    async def authenticate(self, request: web.Request, body: bytes) -> Principal:
        """The principal whose key signed the request, or the AWS error saying why not."""
        try:
            claim = sigv4.parse_authorization(
                request.headers.get("Authorization"), request.headers.get("X-Amz-Date")
            )
            sigv4.check_scope(claim, region=self.region, service=SIGNING_NAME)
            sigv4.check_clock(claim, datetime.now(UTC))
            key = await self.keys.get(claim.access_key_id)
            if key is None:
                raise UnrecognizedClientException(
                    "The security token included in the request is invalid."
                )
            payload_hash = (
                request.headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
            )
            sigv4.check_signature(
                claim,
                key.secret_access_key,
                method=request.method,
                path=request.raw_path.split("?", 1)[0],
                query=sigv4.query_pairs(request.query_string),
                headers=request.headers,
                payload_hash=payload_hash,
            )
        except sigv4.SigV4Error as exc:
            raise _SIGV4_ERRORS[exc.kind](exc.message) from None
        if self.limiter.wait_time(key.access_key_id):
            raise ThrottlingException("Rate exceeded")
        return Principal.of(key)

    def decode(self, request: web.Request, body: bytes) -> tuple[str, dict[str, Any]]:
        """The operation name and its snake_case keyword arguments."""
        target = request.headers.get("X-Amz-Target", "")
        prefix, _, operation = target.partition(".")
        model = ecr_model.operation_model(operation) if prefix == ecr_model.TARGET_PREFIX else None
        if model is None:
            raise UnknownOperationException(f"Unknown operation {target!r}")
        if operation not in self.service.operations:
            raise UnknownOperationException(
                f"Operation {operation} is not implemented by layerport"
            )
        try:
            raw = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            # RecursionError: nested deeper than the parser goes, which no input shape is.
            raise SerializationException("The request body is not valid JSON") from None
        if not isinstance(raw, dict):
            raise SerializationException("The request body must be a JSON object")
        shape = model.input_shape
        decoded = ecr_codec.decode(shape, raw)
        for path, constraint in ecr_model.constraint_violations(shape, decoded):
            raise InvalidParameterException(
                f"Invalid parameter at '{path}' failed to satisfy constraint: '{constraint}'"
            )
        return operation, ecr_codec.to_kwargs(shape, decoded)
