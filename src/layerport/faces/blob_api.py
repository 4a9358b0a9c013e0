"""The blob face (filesystem store only): ``GET``/``HEAD /_blob/<algorithm>/<hex>``.

Authenticated by SigV4 query parameters exactly as S3 pre-signed URLs are, so a
URL from GetDownloadUrlForLayer behaves like ECR's S3 URL: it expires, any
change to it is refused, and it grants one blob.  Errors are S3's XML.  An
``Authorization`` header sent along (docker forwards it on same-host redirects)
is ignored: the query signature is what is checked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.sax.saxutils import escape

from aiohttp import web

from layerport.auth import sigv4
from layerport.auth.presign import PRESIGN_SERVICE, PresignKey
from layerport.config import MAX_PRESIGN_EXPIRES
from layerport.digest import Digest, InvalidDigest
from layerport.faces.blob_response import BlobResponse
from layerport.store.blobs.filesystem import FilesystemBlobStore

_S3_CODES = {
    "missing": "AccessDenied",
    "incomplete": "AuthorizationQueryParametersError",
    "scope": "AuthorizationQueryParametersError",
    "expired": "AccessDenied",
    "mismatch": "SignatureDoesNotMatch",
}


def s3_error(status: int, code: str, message: str) -> web.Response:
    """An S3-style XML error."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return web.Response(status=status, text=body, content_type="application/xml")


class BlobFace:
    """Serves pre-signed blob URLs from a filesystem store.

    store: where the bytes are.
    key: the presign credential the URLs were signed with.
    region: the region their scope must name.
    """

    def __init__(self, store: FilesystemBlobStore, key: PresignKey, region: str) -> None:
        self.store = store
        self.key = key
        self.region = region

    def add_routes(self, app: web.Application) -> None:
        """Mount ``/_blob/{algorithm}/{hex}`` for GET (and HEAD)."""
        app.router.add_get("/_blob/{algorithm}/{hex}", self.get)

    def verify(self, request: web.Request) -> None:
        """Check the URL's signature, scope and expiry; raise SigV4Error if wrong."""
        # One value each: a second X-Amz-Signature (or any other) would let the URL say
        # one thing to the check and another to a reader of the query.
        names = [name for name, _ in request.query.items() if name.startswith("X-Amz-")]
        if len(names) != len(set(names)):
            raise sigv4.SigV4Error("incomplete", "An X-Amz-* query parameter is given twice")
        claim, expires = sigv4.parse_presigned_query(request.query)
        if not sigv4.hmac_equal(claim.access_key_id, self.key.access_key_id):
            raise sigv4.SigV4Error(
                "mismatch", "The AWS Access Key Id you provided does not exist in our records."
            )
        sigv4.check_scope(claim, region=self.region, service=PRESIGN_SERVICE)
        if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
            raise sigv4.SigV4Error(
                "incomplete", f"X-Amz-Expires must be between 1 and {MAX_PRESIGN_EXPIRES} seconds"
            )
        sigv4.check_clock(claim, datetime.now(UTC), expires=expires)
        pairs = sigv4.query_pairs(request.query_string, drop_signature=True)
        # A URL signed for GET also answers HEAD: HEAD reveals a subset of what GET does.
        methods = ("GET",) if request.method == "GET" else (request.method, "GET")
        for index, method in enumerate(methods):
            try:
                sigv4.check_signature(
                    claim,
                    self.key.secret,
                    method=method,
                    path=request.raw_path.split("?", 1)[0],
                    query=pairs,
                    headers=request.headers,
                    payload_hash=sigv4.UNSIGNED_PAYLOAD,
                )
                return
            except sigv4.SigV4Error:
                if index == len(methods) - 1:
                    raise

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Stream the blob the URL was signed for."""
        try:
            self.verify(request)
        except sigv4.SigV4Error as exc:
            status = 400 if exc.kind == "incomplete" else 403
            return s3_error(status, _S3_CODES[exc.kind], exc.message)
        try:
            digest = Digest.parse(f"{request.match_info['algorithm']}:{request.match_info['hex']}")
        except InvalidDigest:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        path = self.store.blob_path(digest)
        if not path.is_file():
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return BlobResponse(path, str(digest))
