"""Several replicas on one PostgreSQL database and one S3 bucket, behind nginx.

Two ``layerport serve`` processes share the stores and nothing else; nginx on
loopback balances them round-robin, and both announce nginx's URL as their
public URL.  Whatever one replica starts, the other continues, even after the
first is killed.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.backends.nginx import Nginx
from tests.registry.interop import LayoutReader, Skopeo
from tests.registry.oci_layout import Layout
from tests.support import (
    S3Server,
    Server,
    drop_postgres_database,
    free_port,
    image_config,
    image_manifest,
    postgres_database,
    registry_login,
    require_tool,
    sha256,
    upload_blob,
)

MIB = 1024 * 1024
#: More than one S3 part (8 MiB), so an upload in flight holds a part and a tail.
BIG = 9 * MIB + 4321


@dataclass
class Cluster:
    """Replicas ``a`` and ``b`` on shared stores, and ``nginx`` in front of them."""

    a: Server
    b: Server
    nginx: Nginx
    workdir: Path

    @property
    def balanced(self) -> Server:
        """A stand-in Server for the balancer's address (clients' endpoint; never started)."""
        return Server(self.workdir / "balanced", port=self.nginx.port)


def replica(data_dir: Path, database: str, store: str, public_url: str) -> Server:
    """A replica announcing the balancer's URL (proxyEndpoint, redirects, realm)."""
    return Server(
        data_dir, database=database, store=store, extra_env={"LAYERPORT_PUBLIC_URL": public_url}
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[Cluster]:
    """Two replicas on a fresh database and bucket, behind nginx; all stopped at the end."""
    require_tool("nginx")
    workdir = tmp_path_factory.mktemp("replicas")
    name = f"lp_replicas_{os.getpid()}"
    database = postgres_database(name)
    store = s3_server.bucket(name.replace("_", "-"))
    nginx_port = free_port()
    public = f"http://127.0.0.1:{nginx_port}"
    a = replica(workdir / "a", database, store, public)
    b = replica(workdir / "b", database, store, public)
    nginx = Nginx(workdir / "nginx", [a.port, b.port], port=nginx_port)
    try:
        a.start()
        b.start()
        nginx.start()
        yield Cluster(a, b, nginx, workdir)
    finally:
        nginx.stop()
        a.stop()
        b.stop()
        drop_postgres_database(name)


def skopeo_for(server: Server, workdir: Path) -> Skopeo:
    client = Skopeo(server, workdir)
    client.login()
    return client


def test_an_image_pushed_to_one_replica_pulls_through_the_balancer_and_the_other(
    cluster: Cluster, tmp_path: Path
) -> None:
    # given an image of a small and a multi-part layer, pushed by skopeo to replica A directly
    require_tool("skopeo")
    cluster.a.client().create_repository(repositoryName="replicas/app")
    layout = Layout(tmp_path / "source")
    manifest, _ = layout.image([{"etc/motd": b"hi\n"}, {"big.bin": os.urandom(BIG)}])
    layout.tag(manifest, "v1")
    skopeo_for(cluster.a, tmp_path / "skopeo-a").push(layout.root, "v1", "replicas/app:v1")
    original = LayoutReader(layout.root).image_blobs(manifest.digest)

    # when every blob's URL is asked for through nginx and fetched, and skopeo pulls the
    # image through nginx and through replica B
    balanced = cluster.balanced.client()
    fetched = {}
    for digest in original:
        url = balanced.get_download_url_for_layer(
            repositoryName="replicas/app", layerDigest=digest
        )["downloadUrl"]
        fetched[digest] = requests.get(url, timeout=60).content
    token = balanced.get_authorization_token()["authorizationData"][0]
    pulled = {}
    for label, server in (("nginx", cluster.balanced), ("b", cluster.b)):
        skopeo = skopeo_for(server, tmp_path / f"skopeo-{label}")
        skopeo.pull("replicas/app:v1", f"oci:{tmp_path / label}:v1")
        pulled[label] = LayoutReader(tmp_path / label)

    # then the bytes match their digests everywhere, and the token names the balancer
    assert {digest: sha256(data) for digest, data in fetched.items()} == {d: d for d in original}
    assert fetched == original
    for reader in pulled.values():
        assert reader.tagged("v1")["digest"] == manifest.digest
        assert reader.image_blobs(manifest.digest) == original
    assert token["proxyEndpoint"] == cluster.nginx.url


def restart(server: Server) -> None:
    """Bring a killed replica back so later tests have both."""
    if server.process is None:
        server.start()


def test_an_ecr_upload_started_on_one_replica_completes_on_the_other_after_a_crash(
    cluster: Cluster,
) -> None:
    # given an ECR upload on replica A holding a full S3 part and a tail
    repository = "replicas/ecr-upload"
    cluster.b.client().create_repository(repositoryName=repository)
    data = os.urandom(BIG + 3 * MIB)
    a = cluster.a.client()
    upload_id = a.initiate_layer_upload(repositoryName=repository)["uploadId"]
    a.upload_layer_part(
        repositoryName=repository,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=BIG - 1,
        layerPartBlob=data[:BIG],
    )
    try:
        # when A is killed and the upload continues and completes on replica B
        cluster.a.stop(signal.SIGKILL)
        b = cluster.b.client()
        part = b.upload_layer_part(
            repositoryName=repository,
            uploadId=upload_id,
            partFirstByte=BIG,
            partLastByte=len(data) - 1,
            layerPartBlob=data[BIG:],
        )
        done = b.complete_layer_upload(
            repositoryName=repository, uploadId=upload_id, layerDigests=[sha256(data)]
        )
        config = image_config([data])
        upload_blob(b, repository, config)
        b.put_image(
            repositoryName=repository, imageManifest=image_manifest(config, [data]), imageTag="v1"
        )
        url = cluster.balanced.client().get_download_url_for_layer(
            repositoryName=repository, layerDigest=sha256(data)
        )["downloadUrl"]
        downloaded = requests.get(url, timeout=60).content
    finally:
        restart(cluster.a)

    # then the layer holds the bytes received by both replicas, in order
    assert part["lastByteReceived"] == len(data) - 1
    assert done["layerDigest"] == sha256(data)
    assert sha256(downloaded) == sha256(data)


def test_a_registry_upload_started_on_one_replica_completes_on_the_other_after_a_crash(
    cluster: Cluster,
) -> None:
    # given a /v2/ chunked upload on replica A with its first chunk received
    repository = "replicas/oci-upload"
    cluster.a.client().create_repository(repositoryName=repository)
    auth = registry_login(cluster.a)
    data = os.urandom(BIG + 2 * MIB)
    started = requests.post(
        f"{cluster.a.url}/v2/{repository}/blobs/uploads/", auth=auth, timeout=30
    )
    assert started.status_code == 202, started.text
    first = requests.patch(
        f"{cluster.a.url}{started.headers['Location']}",
        data=data[:BIG],
        headers={"Content-Range": f"0-{BIG - 1}", "Content-Type": "application/octet-stream"},
        auth=auth,
        timeout=60,
    )
    assert first.status_code == 202, first.text
    try:
        # when A is killed and B takes the next chunk and the final PUT
        cluster.a.stop(signal.SIGKILL)
        status = requests.get(f"{cluster.b.url}{first.headers['Location']}", auth=auth, timeout=30)
        second = requests.patch(
            f"{cluster.b.url}{first.headers['Location']}",
            data=data[BIG:],
            headers={
                "Content-Range": f"{BIG}-{len(data) - 1}",
                "Content-Type": "application/octet-stream",
            },
            auth=auth,
            timeout=60,
        )
        done = requests.put(
            f"{cluster.b.url}{second.headers['Location']}",
            params={"digest": sha256(data)},
            auth=auth,
            timeout=60,
        )
        # and, once a manifest on B references it, is fetched through the balancer
        # (HEAD answered from metadata, GET redirected to the object store)
        config = image_config([data])
        upload_blob(cluster.b.client(), repository, config)
        pushed = requests.put(
            f"{cluster.b.url}/v2/{repository}/manifests/v1",
            data=image_manifest(config, [data]),
            headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
            auth=auth,
            timeout=30,
        )
        blob_url = f"{cluster.nginx.url}/v2/{repository}/blobs/{sha256(data)}"
        head = requests.head(blob_url, auth=auth, timeout=30)
        got = requests.get(blob_url, auth=auth, timeout=60)
    finally:
        restart(cluster.a)

    # then B saw A's bytes, and the blob is exactly the data
    assert (status.status_code, status.headers["Range"]) == (204, f"0-{BIG - 1}")
    assert second.status_code == 202, second.text
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == sha256(data)
    assert pushed.status_code == 201, pushed.text
    assert (head.status_code, head.headers["Content-Length"]) == (200, str(len(data)))
    assert got.status_code == 200 and got.history and got.history[0].status_code == 307
    assert sha256(got.content) == sha256(data)


def test_replicas_starting_together_on_an_empty_database_both_come_up(
    tmp_path: Path, s3_server: S3Server
) -> None:
    # given an empty database and bucket, and two replicas about to start at the same moment
    name = f"lp_replicas_race_{os.getpid()}"
    database = postgres_database(name)
    store = s3_server.bucket(name.replace("_", "-"))
    public = f"http://127.0.0.1:{free_port()}"
    a = replica(tmp_path / "a", database, store, public)
    b = replica(tmp_path / "b", database, store, public)
    try:
        # when both start at once (each runs the migrations and creates the shared secrets)
        with ThreadPoolExecutor(2) as pool:
            outcomes = [pool.submit(server.start) for server in (a, b)]
            errors = [future.exception(timeout=60) for future in outcomes]
        assert errors == [None, None]
        a.client().create_repository(repositoryName="race/seen-by-both")
        seen = b.client().describe_repositories()["repositories"]
        token_from_a = registry_login(a)
        on_b = requests.get(f"{b.url}/v2/", auth=token_from_a, timeout=30)
    finally:
        a.stop()
        b.stop()
        drop_postgres_database(name)

    # then both serve the same data, and a token minted by one is good on the other
    assert [repo["repositoryName"] for repo in seen] == ["race/seen-by-both"]
    assert on_b.status_code == 200, on_b.text
