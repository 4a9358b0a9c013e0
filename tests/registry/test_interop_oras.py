"""oras-py (the ORAS Python client) against the registry face: artifacts, referrers, tags.

oras-py 0.2.43 speaks to ECR-style registries only with ``auth_backend="basic"``:
its default ``token`` backend always turns a challenge into a Bearer-token
request to the realm, and its ``ecr`` backend only knows amazonaws.com realms
(see the last test).  With the basic backend every request is first sent
without credentials and repeated with them after the 401.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import oras.client
import oras.decorator
import oras.defaults
import oras.oci
import pytest
import requests

from tests.media_types import OCI_EMPTY, OCI_INDEX, OCI_MANIFEST
from tests.support import Server, registry_login, sha256

pytestmark = pytest.mark.interop

PAYLOAD_TYPE = "application/vnd.layerport.test.payload.v1"
CONFIG_TYPE = "application/vnd.layerport.test.config.v1+json"
SIGNATURE_TYPE = "application/vnd.layerport.test.signature.v1"
SBOM_TYPE = "application/vnd.layerport.test.sbom.v1+json"


def host(server: Server) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.fixture
def oras_client(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An oras client logged in to the session server over plain HTTP."""
    monkeypatch.setenv("HOME", str(tmp_path))  # oras reads ~/.docker/config.json
    monkeypatch.chdir(tmp_path)  # and pushes only files below the working directory
    client = oras.client.OrasClient(hostname=host(server), insecure=True, auth_backend="basic")
    user, password = registry_login(server)
    status = client.login(
        user, password, hostname=host(server), config_path=str(tmp_path / "docker.json")
    )
    assert status == {"Status": "Login Succeeded"}
    return client


def manifest_size(server: Server, repository: str, digest: str, auth: tuple[str, str]) -> int:
    """The stored manifest's length, from a ``HEAD`` (what a subject descriptor's size is)."""
    head = requests.head(
        f"{server.url}/v2/{repository}/manifests/{digest}",
        auth=auth,
        headers={"Accept": OCI_MANIFEST},
        timeout=30,
    )
    assert head.status_code == 200
    return int(head.headers["Content-Length"])


def push_artifact(client: Any, target: str, directory: Path, content: bytes, **options: Any) -> Any:
    """``oras push`` of one file with a custom media type and a custom config type."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = directory / "payload.txt"
    payload.write_bytes(content)
    config = directory / "config.json"
    config.write_text(json.dumps({"made-by": "layerport tests", "of": target}))
    response = client.push(
        target=target,
        files=[f"{payload.relative_to(Path.cwd())}:{PAYLOAD_TYPE}"],
        manifest_config=f"{config.relative_to(Path.cwd())}:{CONFIG_TYPE}",
        **options,
    )
    assert response.status_code == 201, response.text
    return response


def test_oras_pushes_an_artifact_and_pulls_it_back(
    oras_client: Any, server: Server, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given a file with its own media type, pushed by oras with a custom config type
    content = b"an artifact that is not an image\n" * 500
    target = f"{host(server)}/{repository}:v1"
    pushed = push_artifact(oras_client, target, tmp_path / "push", content)

    # when oras pulls the artifact into another directory
    files = oras_client.pull(target=target, outdir=str(tmp_path / "pulled"))

    # then the file comes back byte for byte, and the manifest keeps both media types
    assert [Path(name).name for name in files] == ["payload.txt"]
    assert Path(files[0]).read_bytes() == content
    manifest = oras_client.get_manifest(target)
    assert manifest["config"]["mediaType"] == CONFIG_TYPE
    assert [(each["mediaType"], each["digest"]) for each in manifest["layers"]] == [
        (PAYLOAD_TYPE, sha256(content))
    ]
    # and the ECR API sees the same artifact, and serves the file as a layer
    digest = pushed.headers["Docker-Content-Digest"]
    details = ecr.describe_images(repositoryName=repository)["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [(digest, ["v1"])]
    assert details[0]["artifactMediaType"] == CONFIG_TYPE
    url = ecr.get_download_url_for_layer(repositoryName=repository, layerDigest=sha256(content))
    assert requests.get(url["downloadUrl"], timeout=30).content == content


def test_a_referrer_pushed_with_oras_is_listed_by_the_referrers_api(
    oras_client: Any,
    server: Server,
    repository: str,
    registry_auth: tuple[str, str],
    tmp_path: Path,
) -> None:
    # given an artifact, and a second artifact pushed by oras with the first as its subject
    target = f"{host(server)}/{repository}"
    first = push_artifact(oras_client, f"{target}:v1", tmp_path / "first", b"the subject\n")
    subject_digest = first.headers["Docker-Content-Digest"]
    subject_size = manifest_size(server, repository, subject_digest, registry_auth)
    referrer = push_artifact(
        oras_client,
        f"{target}:v1.sig",
        tmp_path / "second",
        b"a signature, in spirit\n",
        subject=oras.oci.Subject(OCI_MANIFEST, subject_digest, subject_size),
        manifest_annotations={"org.example.kind": "signature"},
    )

    # when the referrers of the first artifact are listed, unfiltered and filtered
    url = f"{server.url}/v2/{repository}/referrers/{subject_digest}"
    listed = requests.get(url, auth=registry_auth, timeout=30)
    matching = requests.get(
        url, auth=registry_auth, params={"artifactType": CONFIG_TYPE}, timeout=30
    )
    other = requests.get(url, auth=registry_auth, params={"artifactType": SBOM_TYPE}, timeout=30)

    # then the registry acknowledged the subject, and the referrer is listed with the
    # config media type as its artifact type (the manifest has no artifactType field)
    assert referrer.headers.get("OCI-Subject") == subject_digest
    referrer_digest = referrer.headers["Docker-Content-Digest"]
    stored = requests.get(
        f"{server.url}/v2/{repository}/manifests/{referrer_digest}",
        auth=registry_auth,
        headers={"Accept": OCI_MANIFEST},
        timeout=30,
    )
    assert stored.json()["subject"]["digest"] == subject_digest
    expected = {
        "mediaType": OCI_MANIFEST,
        "digest": referrer_digest,
        "size": len(stored.content),
        "artifactType": CONFIG_TYPE,
        "annotations": {"org.example.kind": "signature"},
    }
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == OCI_INDEX
    assert listed.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [expected]}
    assert matching.json()["manifests"] == [expected]
    assert matching.headers["OCI-Filters-Applied"] == "artifactType"
    assert other.json()["manifests"] == []


def test_a_referrer_with_an_artifact_type_is_listed_under_it(
    oras_client: Any,
    server: Server,
    repository: str,
    registry_auth: tuple[str, str],
    tmp_path: Path,
) -> None:
    # given an artifact, and an SBOM manifest with artifactType, an empty config and the
    # artifact as subject, uploaded with oras' blob and manifest calls (oras-py's push()
    # cannot set artifactType)
    target = f"{host(server)}/{repository}"
    first = push_artifact(oras_client, f"{target}:v1", tmp_path / "first", b"the subject\n")
    subject_digest = first.headers["Docker-Content-Digest"]
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"{}")
    sbom = tmp_path / "sbom.json"
    sbom.write_text(json.dumps({"packages": ["layerport"]}))
    container = oras_client.get_container(f"{target}:v1.sbom")
    empty_config = {"mediaType": OCI_EMPTY, "digest": sha256(b"{}"), "size": 2}
    layer = {
        "mediaType": SBOM_TYPE,
        "digest": sha256(sbom.read_bytes()),
        "size": len(sbom.read_bytes()),
    }
    for path, descriptor in ((empty, empty_config), (sbom, layer)):
        assert oras_client.upload_blob(str(path), container, descriptor).status_code in (200, 201)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SBOM_TYPE,
        "config": empty_config,
        "layers": [layer],
        "subject": {
            "mediaType": OCI_MANIFEST,
            "digest": subject_digest,
            "size": manifest_size(server, repository, subject_digest, registry_auth),
        },
    }

    # when the manifest is pushed and the referrers are listed, filtered by the SBOM type
    pushed = oras_client.upload_manifest(manifest, container)
    listed = requests.get(
        f"{server.url}/v2/{repository}/referrers/{subject_digest}",
        auth=registry_auth,
        params={"artifactType": SBOM_TYPE},
        timeout=30,
    )

    # then the SBOM is the one referrer of that type, listed with its artifactType
    assert pushed.status_code == 201, pushed.text
    assert pushed.headers["OCI-Subject"] == subject_digest
    assert [(m["digest"], m["artifactType"]) for m in listed.json()["manifests"]] == [
        (pushed.headers["Docker-Content-Digest"], SBOM_TYPE)
    ]


def test_oras_lists_and_deletes_tags(
    oras_client: Any, server: Server, ecr: Any, repository: str, tmp_path: Path
) -> None:
    # given two different artifacts under two tags
    target = f"{host(server)}/{repository}"
    push_artifact(oras_client, f"{target}:v1", tmp_path / "one", b"one\n")
    kept = push_artifact(oras_client, f"{target}:v2", tmp_path / "two", b"two\n")
    before = oras_client.get_tags(target)

    # when oras deletes the first tag (it resolves the tag, then deletes that manifest)
    deleted = oras_client.delete_tags(target, "v1")

    # then only the second artifact is left, through both faces
    assert before == ["v1", "v2"]
    assert deleted == ["v1"]
    assert oras_client.get_tags(target) == ["v2"]
    assert ecr.list_images(repositoryName=repository)["imageIds"] == [
        {"imageDigest": kept.headers["Docker-Content-Digest"], "imageTag": "v2"}
    ]


def test_oras_default_token_backend_cannot_answer_a_basic_challenge(
    server: Server, repository: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given oras' default auth backend, logged in with a valid ECR token; its retry
    # decorator would sleep 3 + 5 + 11 + 29 + 83 seconds, so the sleeps are skipped
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(oras.decorator.time, "sleep", lambda seconds: None)
    client = oras.client.OrasClient(hostname=host(server), insecure=True)
    user, password = registry_login(server)
    client.login(user, password, hostname=host(server), config_path=str(tmp_path / "docker.json"))

    # when it lists tags, the registry answers 401 with ECR's Basic challenge
    # then oras asks the realm for a Bearer token instead of sending Basic, and gives up
    with pytest.raises(ValueError, match="Cannot respond to request for authentication"):
        client.get_tags(f"{host(server)}/{repository}")
