"""Content discovery: tags list, referrers, catalog (paged with ``n``, ``last``, ``Link``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from layerport.faces.registry.blobs import parse_digest
from layerport.faces.registry.context import Call
from layerport.faces.registry.oci import API_VERSION, oci_error
from layerport.service.manifests import OCI_INDEX


def _page_args(call: Call) -> tuple[int | None, str | None] | web.Response:
    query = call.request.query
    limit: int | None = None
    if "n" in query:
        try:
            limit = int(query["n"])
        except ValueError:
            limit = -1
        if limit < 0:
            # UNSUPPORTED: the spec's codes are the only ones allowed (no PAGINATION_*).
            return oci_error(400, "UNSUPPORTED", f"n={query['n']!r} is not a valid page size")
    return limit, query.get("last") or None


def _json(payload: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=200,
        body=json.dumps(payload).encode(),
        content_type="application/json",
        headers={**API_VERSION, **(headers or {})},
    )


def _link(path: str, limit: int | None, last: str) -> dict[str, str]:
    query = urlencode({"n": limit, "last": last} if limit is not None else {"last": last})
    return {"Link": f'<{path}?{query}>; rel="next"'}


async def list_tags(call: Call) -> web.StreamResponse:
    """``{"name", "tags"}`` in lexical order; ``Link`` to the next page."""
    args = _page_args(call)
    if isinstance(args, web.Response):
        return args
    limit, last = args
    tags, more = await call.registry.tags(call.caller, call.name, limit, last)
    headers = _link(call.location("tags", "list"), limit, tags[-1]) if more and tags else None
    return _json({"name": call.name, "tags": tags}, headers)


async def catalog(call: Call) -> web.StreamResponse:
    """``{"repositories"}`` of the caller's registry; ``Link`` to the next page."""
    args = _page_args(call)
    if isinstance(args, web.Response):
        return args
    limit, last = args
    names, more = await call.registry.catalog(call.caller, limit, last)
    headers = _link("/v2/_catalog", limit, names[-1]) if more and names else None
    return _json({"repositories": names}, headers)


async def referrers(call: Call) -> web.StreamResponse:
    """An OCI index of the manifests whose subject is the digest; always 200."""
    digest = parse_digest(call.ref)
    if isinstance(digest, web.Response):
        return digest
    artifact_type = call.request.query.get("artifactType")
    found = await call.registry.referrers(call.caller, call.name, digest, artifact_type)
    headers = {"OCI-Filters-Applied": "artifactType"} if artifact_type else {}
    body = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": found}
    return web.Response(
        status=200,
        body=json.dumps(body).encode(),
        headers={**API_VERSION, **headers, "Content-Type": OCI_INDEX},
    )
