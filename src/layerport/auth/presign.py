"""Mint SigV4 query-signed URLs for layerport's own blob path (filesystem store).

The URLs have the shape of an S3 pre-signed GET, as ECR's do: host-only signed
headers, an unsigned payload, and an expiry capped by configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode, urlsplit

from layerport.auth import sigv4

#: The scope's service name: the URLs mimic S3's, as ECR's point at S3.
PRESIGN_SERVICE = "s3"


@dataclass(frozen=True)
class PresignKey:
    """The server's own signing credential for blob URLs (shared by all replicas)."""

    access_key_id: str
    secret: str
    session_token: str | None = None


def presign_get(
    *, base_url: str, path: str, key: PresignKey, region: str, expires: int, now: datetime
) -> str:
    """A URL that lets its holder GET ``path`` on ``base_url`` for ``expires`` seconds.

    The same signature S3 verifies (botocore's ``generate_presigned_url`` for
    ``get_object`` gives the same one), so it serves layerport's blob face and
    S3-compatible stores alike; temporary credentials add X-Amz-Security-Token.
    """
    amz_date = now.strftime(sigv4.AMZ_DATE_FORMAT)
    date = amz_date[:8]
    scope = f"{date}/{region}/{PRESIGN_SERVICE}/aws4_request"
    params = [
        ("X-Amz-Algorithm", sigv4.ALGORITHM),
        ("X-Amz-Credential", f"{key.access_key_id}/{scope}"),
        ("X-Amz-Date", amz_date),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if key.session_token:
        params.append(("X-Amz-Security-Token", key.session_token))
    host = urlsplit(base_url).netloc
    text = sigv4.string_to_sign(
        method="GET",
        path=path,
        query=params,
        headers={"host": host},
        signed_headers=("host",),
        payload_hash=sigv4.UNSIGNED_PAYLOAD,
        amz_date=amz_date,
        scope=scope,
    )
    signature = sigv4.sign(sigv4.signing_key(key.secret, date, region, PRESIGN_SERVICE), text)
    query = urlencode([*params, ("X-Amz-Signature", signature)], quote_via=quote)
    return f"{base_url}{quote(path, safe='/-_.~')}?{query}"
