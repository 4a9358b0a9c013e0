"""Cross-cutting HTTP behaviour: request ids, an access log without secrets, last-resort errors."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from layerport.errors import ServerException
from layerport.faces.ecr_api import error_response
from layerport.faces.registry.oci import oci_error

log = logging.getLogger("layerport.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every response an ``x-amzn-RequestId`` (AWS) and log one line per request.

    The log names the method, path (without the query, which may hold a
    signature), status and duration, never headers.
    """
    rid = str(uuid.uuid4())
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers["x-amzn-RequestId"] = rid
        raise
    response.headers["x-amzn-RequestId"] = rid
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            "%s %s %s %.1fms %s",
            request.method,
            request.path,
            response.status,
            (time.perf_counter() - started) * 1000,
            rid,
        )
    return response


@web.middleware
async def last_resort(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn an unexpected exception into the face's protocol error, never a traceback."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = "layerport hit an internal error; see the server log"
        if request.method == "POST" and request.path == "/":
            return error_response(ServerException(message))
        if request.path.startswith("/v2"):
            return oci_error(500, "UNKNOWN", message)
        return web.Response(status=500, text=message)
