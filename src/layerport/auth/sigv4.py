"""AWS Signature Version 4: canonical requests, cached signing keys, verification.

Both directions live here so that what layerport signs (pre-signed blob URLs)
and what it verifies (ECR API calls, those URLs coming back) share one
canonicalisation.  Reference: "Create a signed AWS API request" in the IAM user
guide; tests check this module against botocore's signer.

Verification is split in two so the secret lookup (a store query) stays out of
here: :func:`parse_authorization` / :func:`parse_presigned_query` read what the
client claims, then :func:`check_signature` recomputes the signature with the
secret and compares in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, quote, unquote

ALGORITHM: Final = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT: Final = "%Y%m%dT%H%M%SZ"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
#: How far a request's X-Amz-Date may be from the server's clock, as AWS allows.
MAX_CLOCK_SKEW: Final = timedelta(minutes=15)


class SigV4Error(Exception):
    """A request's SigV4 authentication is absent, malformed, stale or wrong.

    ``kind`` says which, so each face can answer in its own protocol:
    ``missing``, ``incomplete``, ``scope``, ``expired``, ``mismatch``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Claim:
    """What a request says about its own signature, before the secret is known."""

    access_key_id: str
    date: str  # YYYYMMDD, from the credential scope
    region: str
    service: str
    amz_date: str  # YYYYMMDDTHHMMSSZ
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        """The credential scope ``date/region/service/aws4_request``."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@functools.lru_cache(maxsize=4096)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """Derive the per-day, per-scope key; cached because every request needs it."""
    key = _hmac(f"AWS4{secret}".encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_path(raw_path: str) -> str:
    """The canonical URI of a request path (each segment percent-encoded once)."""
    return quote(unquote(raw_path or "/"), safe="/-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Sorted, percent-encoded ``key=value`` pairs joined with ``&``."""
    encoded = sorted((_uri_encode(k), _uri_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _canonical_headers(headers: Mapping[str, str], names: Iterable[str]) -> str:
    # A header sent more than once is signed as its values joined with commas, in order;
    # a multidict (aiohttp's headers) keeps them all, a plain mapping has one.
    getall = getattr(headers, "getall", None)
    lines = []
    for name in names:
        values = getall(name, []) if getall else [headers.get(name, "")]
        value = ",".join(" ".join(item.split()) for item in values)
        lines.append(f"{name}:{value}\n")
    return "".join(lines)


def string_to_sign(
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    payload_hash: str,
    amz_date: str,
    scope: str,
) -> str:
    """Build the canonical request and the string to sign for it.

    ``headers`` must be a case-insensitive mapping (or have lower-case keys).
    """
    names = list(signed_headers)
    canonical_request = "\n".join(
        (
            method,
            canonical_path(path),
            canonical_query(query),
            _canonical_headers(headers, names),
            ";".join(names),
            payload_hash,
        )
    )
    # Header bytes that are not UTF-8 arrive as lone surrogates (aiohttp decodes with
    # surrogateescape); encoding them back the same way hashes the bytes that were sent.
    digest = hashlib.sha256(canonical_request.encode("utf-8", "surrogateescape")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def sign(key: bytes, text: str) -> str:
    """Hex HMAC-SHA256 of ``text``: the signature."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def parse_authorization(header: str | None, amz_date: str | None) -> Claim:
    """Read an ``Authorization: AWS4-HMAC-SHA256 Credential=…`` header and X-Amz-Date."""
    if not header:
        raise SigV4Error("missing", "Missing Authentication Token")
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise SigV4Error("incomplete", f"Unsupported authorization type {algorithm!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, eq, value = part.strip().partition("=")
        if eq:
            fields[name] = value
    missing = [f for f in ("Credential", "SignedHeaders", "Signature") if f not in fields]
    if missing:
        raise SigV4Error(
            "incomplete",
            " ".join(f"Authorization header requires '{f}' parameter." for f in missing)
            + f" Authorization={header.split(' ', 1)[0]}",
        )
    if not amz_date:
        raise SigV4Error(
            "incomplete",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    return _claim(fields["Credential"], amz_date, fields["SignedHeaders"], fields["Signature"])


def parse_presigned_query(query: Mapping[str, str]) -> tuple[Claim, int]:
    """Read the X-Amz-* parameters of a pre-signed URL; returns the claim and X-Amz-Expires."""
    if "X-Amz-Signature" not in query and "X-Amz-Credential" not in query:
        raise SigV4Error("missing", "Query-string authentication is required")
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise SigV4Error("incomplete", f"X-Amz-Algorithm only supports {ALGORITHM!r}")
    needed = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders")
    missing = [name for name in (*needed, "X-Amz-Signature") if not query.get(name)]
    if missing:
        raise SigV4Error("incomplete", f"Query-string authentication requires {missing[0]}")
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        raise SigV4Error("incomplete", "X-Amz-Expires should be a number") from None
    claim = _claim(
        query["X-Amz-Credential"],
        query["X-Amz-Date"],
        query["X-Amz-SignedHeaders"],
        query["X-Amz-Signature"],
    )
    return claim, expires


def _claim(credential: str, amz_date: str, signed_headers: str, signature: str) -> Claim:
    parts = credential.split("/")
    # Key ids are ASCII; anything else cannot name a key (nor be looked up in a store).
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts) or not credential.isascii():
        raise SigV4Error(
            "incomplete",
            f"Credential should be of the form <key>/<date>/<region>/<service>/aws4_request, "
            f"not {credential!r}",
        )
    try:
        datetime.strptime(amz_date, AMZ_DATE_FORMAT)
    except ValueError:
        raise SigV4Error("incomplete", f"X-Amz-Date {amz_date!r} is not YYYYMMDDTHHMMSSZ") from None
    if parts[1] != amz_date[:8]:
        raise SigV4Error(
            "scope",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{parts[1]}' != '{amz_date[:8]}'",
        )
    return Claim(
        access_key_id=parts[0],
        date=parts[1],
        region=parts[2],
        service=parts[3],
        amz_date=amz_date,
        signed_headers=tuple(signed_headers.split(";")),
        signature=signature,
    )


def check_scope(claim: Claim, *, region: str, service: str) -> None:
    """Refuse a credential scoped to another region or service."""
    if claim.region != region:
        raise SigV4Error(
            "scope", f"Credential should be scoped to a valid region, not '{claim.region}'."
        )
    if claim.service != service:
        raise SigV4Error("scope", f"Credential should be scoped to correct service: '{service}'.")
    if "host" not in claim.signed_headers:
        raise SigV4Error("incomplete", "'Host' must be a 'SignedHeader' in the AWS Authorization.")


def check_clock(claim: Claim, now: datetime, *, expires: int | None = None) -> None:
    """Refuse a header-signed request outside the skew window, or an expired pre-signed URL.

    With ``expires`` (a pre-signed URL), the URL is valid from its date (less the
    allowed skew) until date + expires; otherwise the request must be within
    :data:`MAX_CLOCK_SKEW` of ``now`` either way.
    """
    signed_at = datetime.strptime(claim.amz_date, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    stamp = now.strftime(AMZ_DATE_FORMAT)
    if signed_at - now > MAX_CLOCK_SKEW:
        limit = (now + MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)
        raise SigV4Error(
            "expired",
            f"Signature not yet current: {claim.amz_date} is still later than {limit} "
            f"({stamp} + 15 min.)",
        )
    if expires is None:
        if now - signed_at > MAX_CLOCK_SKEW:
            limit = (now - MAX_CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)
            raise SigV4Error(
                "expired",
                f"Signature expired: {claim.amz_date} is now earlier than {limit} "
                f"({stamp} - 15 min.)",
            )
    elif now > signed_at + timedelta(seconds=expires):
        raise SigV4Error("expired", "Request has expired")


def check_signature(
    claim: Claim,
    secret: str,
    *,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    payload_hash: str,
) -> None:
    """Recompute the signature with ``secret`` and compare it in constant time."""
    text = string_to_sign(
        method=method,
        path=path,
        query=query,
        headers=headers,
        signed_headers=claim.signed_headers,
        payload_hash=payload_hash,
        amz_date=claim.amz_date,
        scope=claim.scope,
    )
    expected = sign(signing_key(secret, claim.date, claim.region, claim.service), text)
    if not hmac_equal(expected, claim.signature):
        raise SigV4Error(
            "mismatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        )


def query_pairs(raw_query: str, *, drop_signature: bool = False) -> list[tuple[str, str]]:
    """Decode a raw query string into pairs, keeping blanks, as SigV4 canonicalises them."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if drop_signature:
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    return pairs


def hmac_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two strings (secrets, key ids, signatures).

    Compared as bytes: ``hmac.compare_digest`` refuses non-ASCII strings, and a
    header's undecodable bytes arrive as lone surrogates (surrogateescape).
    """
    return hmac.compare_digest(
        a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape")
    )
