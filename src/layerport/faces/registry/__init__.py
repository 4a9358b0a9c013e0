"""The registry face: the OCI Distribution API on ``/v2/``, as docker, skopeo and oras speak it.

Every request is authenticated the way ECR does it (Basic, user ``AWS``, an
authorization token as password), routed from the right-hand end of the path,
and answered by one small handler; service errors become the spec's
``{"errors": [...]}`` bodies.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from layerport.auth.principals import Principal
from layerport.errors import EcrError
from layerport.faces.registry import blobs, discovery, manifests, uploads
from layerport.faces.registry.auth import BasicAuth, Unauthenticated
from layerport.faces.registry.context import Call
from layerport.faces.registry.oci import API_VERSION, from_ecr, oci_error
from layerport.faces.registry.routes import BadName, parse
from layerport.service import Service
from layerport.service.registry import Registry

Handler = Callable[[Call], Awaitable[web.StreamResponse]]

#: (route kind, method) -> handler: everything the face serves, in one table.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("manifest", "GET"): manifests.get_manifest,
    ("manifest", "HEAD"): manifests.head_manifest,
    ("manifest", "PUT"): manifests.put_manifest,
    ("manifest", "DELETE"): manifests.delete_manifest,
    ("blob", "GET"): blobs.get_blob,
    ("blob", "HEAD"): blobs.head_blob,
    ("blob", "DELETE"): blobs.delete_blob,
    ("upload", "POST"): uploads.start_upload,
    ("upload", "PATCH"): uploads.patch_upload,
    ("upload", "PUT"): uploads.put_upload,
    ("upload", "GET"): uploads.upload_status,
    ("upload", "DELETE"): uploads.cancel_upload,
    ("tags", "GET"): discovery.list_tags,
    ("catalog", "GET"): discovery.catalog,
    ("referrers", "GET"): discovery.referrers,
}


#: Errors an anonymous caller gets as the Basic challenge instead (existence is not told).
ANONYMOUS_REFUSALS = frozenset({"AccessDeniedException", "RepositoryNotFoundException"})
#: Routes an anonymous caller may try: reads of a repository.
ANONYMOUS_ROUTES = frozenset({"manifest", "blob", "tags", "referrers"})


_ACCOUNT_LABEL = re.compile(r"\d{12}")


def registry_from_host(host: str) -> str | None:
    """The registry a request's host names, as ECR's ``<account>.dkr.ecr.<region>…`` does.

    A host whose first label is 12 digits (``123456789012.registry.example:5000``)
    addresses that account's registry; any other host, the caller's own.
    """
    label = host.split(".", 1)[0] if "." in host else ""
    return label if _ACCOUNT_LABEL.fullmatch(label) else None


class RegistryFace:
    """``/v2/``.

    service: the ECR operations (layers, uploads, images).
    registry: the registry-only operations.
    auth: checks Basic credentials.
    """

    def __init__(self, service: Service, registry: Registry, auth: BasicAuth) -> None:
        self.service = service
        self.registry = registry
        self.auth = auth

    def add_routes(self, app: web.Application) -> None:
        """Mount every ``/v2`` path on one dispatcher."""
        app.router.add_route("*", "/v2", self.handle)
        # [\s\S], not ".": a percent-encoded newline in the path must reach the handler
        # (and get the spec's error), not fall through to the router's plain-text 404.
        app.router.add_route("*", r"/v2/{tail:[\s\S]*}", self.handle)

    @staticmethod
    def _may_try_anonymously(request: web.Request) -> bool:
        if "Authorization" in request.headers or request.method not in ("GET", "HEAD"):
            return False
        try:
            route = parse(request.match_info.get("tail", ""))
        except BadName:
            return False
        return route is not None and route.kind in ANONYMOUS_ROUTES

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Authenticate, route, call the handler, map errors."""
        challenge: web.Response | None = None
        try:
            caller = await self.auth.principal(request)
        except Unauthenticated as refused:
            if not self._may_try_anonymously(request):
                return refused.response
            # A pull with no credentials goes ahead as anonymous, which only a
            # repository policy allowing "*" lets through; otherwise the client
            # gets the challenge it would have got, and retries with credentials.
            caller, challenge = Principal.nobody(), refused.response
        try:
            route = parse(request.match_info.get("tail", ""))
        except BadName as bad:
            return oci_error(400, "NAME_INVALID", f"invalid repository name {str(bad)!r}")
        if route is None:
            # The spec allows only its own codes in an error body; NOT_FOUND is not one.
            return oci_error(404, "UNSUPPORTED", "no such registry API route")
        if route.kind == "base":
            if request.method not in ("GET", "HEAD"):
                return oci_error(405, "UNSUPPORTED", f"{request.method} is not supported here")
            return web.json_response({}, headers=API_VERSION)
        handler = HANDLERS.get((route.kind, request.method))
        if handler is None:
            return oci_error(405, "UNSUPPORTED", f"{request.method} is not supported here")
        registry = self.registry.at(registry_from_host(request.host))
        call = Call(request, caller, route.name, route.ref, self.service, registry)
        try:
            return await handler(call)
        except EcrError as error:
            if challenge is not None and error.code in ANONYMOUS_REFUSALS:
                return challenge
            response = from_ecr(error)
            if request.method == "HEAD":  # a HEAD answer carries no body
                return web.Response(status=response.status, headers=API_VERSION)
            return response
