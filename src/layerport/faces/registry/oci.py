"""The OCI distribution spec's error body and common headers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from layerport.errors import OCI_ERRORS, EcrError

API_VERSION = {"Docker-Distribution-API-Version": "registry/2.0"}


def oci_error(
    status: int,
    code: str,
    message: str,
    detail: Any = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """``{"errors": [{"code", "message", "detail"}]}`` with ``status``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        error["detail"] = detail
    return web.Response(
        status=status,
        body=json.dumps({"errors": [error]}).encode(),
        content_type="application/json",
        headers={**API_VERSION, **(headers or {})},
    )


def from_ecr(error: EcrError, overrides: dict[str, tuple[str, int]] | None = None) -> web.Response:
    """The OCI error for an ECR error raised by the service."""
    code, status = (overrides or {}).get(error.code) or OCI_ERRORS.get(error.code, ("UNKNOWN", 500))
    return oci_error(status, code, error.message)
