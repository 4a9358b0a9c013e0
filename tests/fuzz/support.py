"""Shared parts of the fuzz suite: hypothesis settings, raw signed and unsigned clients, checks.

Every check here is a property that must hold for *any* request, however
malformed: no 5xx, and every error in its protocol's one error shape.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, settings

from layerport import ecr_model
from tests.registry.http_support import SPEC_CODES
from tests.support import Server

#: Bounded, reproducible runs: no example database in the work tree, a blob to replay failures.
FUZZ = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


#: Multiplies every test's example count, for a longer hunt than the default bounded run.
SCALE = float(os.environ.get("LAYERPORT_FUZZ_SCALE", "1"))


def fuzz_settings(max_examples: int) -> settings:
    """The suite's settings with ``max_examples`` generated cases (times LAYERPORT_FUZZ_SCALE)."""
    return settings(FUZZ, max_examples=max(1, round(max_examples * SCALE)))


TARGET = ecr_model.TARGET_PREFIX
JSON_11 = "application/x-amz-json-1.1"

#: Errors any AWS JSON 1.1 service answers, whatever the operation's model lists.
COMMON_ECR_ERRORS = frozenset(
    {
        "AccessDeniedException",
        "IncompleteSignatureException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "SerializationException",
        "ThrottlingException",
        "UnknownOperationException",
        "UnrecognizedClientException",
    }
)
#: What a request with broken SigV4 authentication may be told.
SIGNATURE_ERRORS = frozenset(
    {
        "IncompleteSignatureException",
        "InvalidSignatureException",
        "MissingAuthenticationTokenException",
        "UnrecognizedClientException",
    }
)

#: The distribution spec's error codes, plus the ones ECR itself answers on ``/v2/``.
OCI_CODES = SPEC_CODES


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


# --- the ECR face ---------------------------------------------------------------------------
class SignedClient:
    """Raw JSON 1.1 requests to the ECR face, SigV4-signed by botocore, sent by ``requests``."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.session = requests.Session()

    def sign(
        self,
        target: str,
        body: bytes,
        *,
        when: datetime | None = None,
        region: str | None = None,
        service: str = "ecr",
        secret: str | None = None,
        key_id: str | None = None,
    ) -> dict[str, str]:
        """The headers botocore sends for ``body`` (optionally signed at another time)."""
        request = AWSRequest(
            method="POST",
            url=f"{self.server.url}/",
            data=body,
            headers={"Content-Type": JSON_11, "X-Amz-Target": target},
        )
        credentials = Credentials(
            key_id or self.server.access_key_id, secret or self.server.secret_access_key
        )
        signer = SigV4Auth(credentials, service, region or self.server.region)
        if when is None:
            signer.add_auth(request)
        else:
            frozen = when.astimezone(UTC).replace(tzinfo=None)
            with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
                signer.add_auth(request)
        return dict(request.prepare().headers)

    def send(self, body: bytes, headers: dict[str, str]) -> requests.Response:
        """POST ``body`` with exactly ``headers``."""
        return self.session.post(f"{self.server.url}/", data=body, headers=headers, timeout=60)

    def call(self, operation: str, body: bytes) -> requests.Response:
        """A correctly signed call of ``operation`` with a raw ``body``."""
        target = f"{TARGET}.{operation}"
        return self.send(body, self.sign(target, body))

    def call_json(self, operation: str, params: dict[str, Any]) -> Any:
        """A signed call that must succeed; its JSON answer."""
        response = self.call(operation, json.dumps(params).encode())
        assert response.status_code == 200, (operation, response.text)
        return response.json()


def check_ecr_response(operation: str | None, response: requests.Response) -> str | None:
    """Check the JSON 1.1 contract of any answer; return the error code, or None for success.

    ``operation`` None means the request named no operation the model has, so only
    the common errors are possible.
    """
    status = response.status_code
    assert status < 500, (status, response.text[:2000])
    assert response.headers.get("x-amzn-RequestId"), dict(response.headers)
    assert response.headers.get("Content-Type", "").split(";")[0] == JSON_11, dict(response.headers)
    body = response.json()
    assert isinstance(body, dict), body
    if status == 200:
        return None
    assert 400 <= status < 500, status
    code = body.get("__type")
    assert isinstance(code, str), body
    assert isinstance(body.get("message"), str), body
    allowed = set(COMMON_ECR_ERRORS)
    if operation is not None:
        allowed |= ecr_model.error_codes(operation)
    assert code in allowed, (operation, body)
    extra = set(body) - {"__type", "message"}
    if extra:  # only members the model gives that error shape (InvalidLayerPartException's)
        shape = ecr_model.service_model().shape_for(code)
        assert extra <= set(shape.members), (code, body)
    return code


# --- raw HTTP ---------------------------------------------------------------------------------
def raw_http(
    port: int,
    method: str,
    target: bytes,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    chunked: bool = False,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send one request byte for byte (any path bytes, repeated headers); read the answer."""
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1:%d" % port]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
    lines.append(b"Connection: close")
    if chunked:
        lines.append(b"Transfer-Encoding: chunked")
        payload = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    else:
        lines.append(b"Content-Length: %d" % len(body))
        payload = body
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + payload)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        data = response.read()
        return response.status, response.headers, data


def basic(user: str, password: str) -> str:
    """An ``Authorization: Basic`` value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def check_oci_response(
    method: str, status: int, headers: http.client.HTTPMessage | Any, body: bytes
) -> list[str]:
    """Check the ``/v2/`` contract of any answer; return its error codes (empty on success)."""
    assert status < 500, (status, body[:2000])
    if method == "HEAD":
        assert body == b"", (status, body[:200])
        return []
    if status < 400:
        return []
    content_type = headers.get("Content-Type", "")
    assert content_type.startswith("application/json"), (status, content_type, body[:500])
    doc = json.loads(body)
    assert isinstance(doc, dict) and set(doc) == {"errors"}, doc
    assert isinstance(doc["errors"], list) and doc["errors"], doc
    codes = []
    for error in doc["errors"]:
        assert isinstance(error, dict), doc
        assert set(error) <= {"code", "message", "detail"}, error
        assert isinstance(error.get("code"), str), error
        assert isinstance(error.get("message"), str), error
        assert error["code"] in OCI_CODES, error
        codes.append(error["code"])
    return codes
