"""Server memory while one large layer goes in through the ECR API and comes back out.

Why: DESIGN.md promises that blobs are streamed, so the server's memory does
not grow with layer size.  This pushes one layer of ``--size-mib`` (1 GiB by
default) with UploadLayerPart in 10 MiB parts (boto3, as ``docker push`` via
the ECR API would), PutImages it, asks GetDownloadUrlForLayer for its URL and
downloads it streaming, checking the sha256.  Neither side holds the layer:
each part is generated on the fly from a seeded PRNG and hashed as it is sent,
and the download is hashed chunk by chunk.  A thread samples the server's
``VmRSS`` and ``VmHWM`` every 100 ms.  Run it at two sizes (64 and 1024 MiB):
the peaks should be the same, and under 150 MiB.

    .venv/bin/python bench/layer_rss.py [--size-mib 1024]

The server runs on 127.0.0.1 in a temp data dir, deleted at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from _common import MIB, fresh_server, memory_kib, print_table, reset_peak, sha256

REPOSITORY = "layerport-rss"
DOWNLOAD_CHUNK = MIB


@dataclass
class Phase:
    """The server's memory over one phase, in KiB."""

    samples: int = 0
    peak_rss: int = 0
    hwm: int = 0


@dataclass
class Sampler:
    """Samples ``VmRSS``/``VmHWM`` of ``pid`` every ``interval`` seconds into the current phase."""

    pid: int
    interval: float = 0.1
    phases: dict[str, Phase] = field(default_factory=dict)
    current: Phase | None = None
    hwm_resets: bool = True
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin sampling in a daemon thread."""
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def enter(self, name: str) -> None:
        """Start a phase: its peak counts from now (VmHWM is reset where the kernel allows)."""
        self.hwm_resets = reset_peak(self.pid) and self.hwm_resets
        phase = Phase()
        self.phases[name] = phase
        self.current = phase
        self._sample(phase)

    def leave(self) -> None:
        """End the phase with one last sample."""
        if self.current is not None:
            self._sample(self.current)
        self.current = None

    def _sample(self, phase: Phase) -> None:
        try:
            memory = memory_kib(self.pid)
        except OSError:
            return
        phase.samples += 1
        phase.peak_rss = max(phase.peak_rss, memory["VmRSS"])
        phase.hwm = max(phase.hwm, memory["VmHWM"])

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            phase = self.current
            if phase is not None:
                self._sample(phase)


def upload_layer(ecr: Any, size: int, part_size: int, seed: int) -> tuple[str, float, float]:
    """Upload ``size`` PRNG bytes in parts; return the digest, seconds in API calls, generating."""
    rng = random.Random(seed)
    hasher = hashlib.sha256()
    upload_id = ecr.initiate_layer_upload(repositoryName=REPOSITORY)["uploadId"]
    api = generating = 0.0
    offset = 0
    while offset < size:
        started = time.perf_counter()
        part = rng.randbytes(min(part_size, size - offset))
        hasher.update(part)
        generating += time.perf_counter() - started
        started = time.perf_counter()
        ecr.upload_layer_part(
            repositoryName=REPOSITORY,
            uploadId=upload_id,
            partFirstByte=offset,
            partLastByte=offset + len(part) - 1,
            layerPartBlob=part,
        )
        api += time.perf_counter() - started
        offset += len(part)
        del part
    digest = "sha256:" + hasher.hexdigest()
    started = time.perf_counter()
    ecr.complete_layer_upload(repositoryName=REPOSITORY, uploadId=upload_id, layerDigests=[digest])
    api += time.perf_counter() - started
    return digest, api, generating


def put_image(ecr: Any, digest: str, size: int) -> None:
    """PutImage a schema-2 manifest whose only layer is the big one (config uploaded first)."""
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    upload_id = ecr.initiate_layer_upload(repositoryName=REPOSITORY)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=REPOSITORY,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(config) - 1,
        layerPartBlob=config,
    )
    ecr.complete_layer_upload(
        repositoryName=REPOSITORY, uploadId=upload_id, layerDigests=[sha256(config)]
    )
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(config),
            "digest": sha256(config),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": size,
                "digest": digest,
            }
        ],
    }
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag="big")


def download(url: str) -> tuple[str, int]:
    """Stream ``url``, hashing as it comes; return its digest and size."""
    hasher = hashlib.sha256()
    size = 0
    with requests.get(url, stream=True, timeout=60) as response:
        response.raise_for_status()
        for chunk in response.iter_content(DOWNLOAD_CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return "sha256:" + hasher.hexdigest(), size


def mib(kib: int) -> str:
    """KiB as MiB, for the table."""
    return f"{kib / 1024:.1f} MiB"


def main() -> None:
    """Start a fresh server, push, pull, and print the memory table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="layer size")
    parser.add_argument("--part-mib", type=int, default=10, help="UploadLayerPart size")
    parser.add_argument("--seed", type=int, default=1, help="PRNG seed of the layer bytes")
    parser.add_argument("--interval", type=float, default=0.1, help="sampling period, seconds")
    args = parser.parse_args()
    size, part_size = args.size_mib * MIB, args.part_mib * MIB

    with fresh_server("layerport-rss-") as server:
        assert server.process is not None
        from botocore.config import Config

        ecr = server.client(config=Config(retries={"max_attempts": 1}, read_timeout=300))
        ecr.create_repository(repositoryName=REPOSITORY)
        sampler = Sampler(server.process.pid, args.interval)
        sampler.start()
        try:
            sampler.enter("baseline")
            time.sleep(1)
            sampler.leave()

            sampler.enter("upload")
            started = time.perf_counter()
            digest, api_seconds, generating = upload_layer(ecr, size, part_size, args.seed)
            put_image(ecr, digest, size)
            upload_wall = time.perf_counter() - started
            sampler.leave()

            url = ecr.get_download_url_for_layer(repositoryName=REPOSITORY, layerDigest=digest)[
                "downloadUrl"
            ]
            sampler.enter("download")
            started = time.perf_counter()
            got, got_size = download(url)
            download_seconds = time.perf_counter() - started
            sampler.leave()
        finally:
            sampler.stop()
        after = memory_kib(server.process.pid)

    if (got, got_size) != (digest, size):
        raise SystemExit(f"download mismatch: {got} ({got_size} B), expected {digest} ({size} B)")
    phases = sampler.phases
    peak = "peak RSS / VmHWM" if sampler.hwm_resets else "peak RSS / VmHWM (not resettable)"
    rows = [
        ("layer", f"{args.size_mib} MiB in {args.part_mib} MiB parts, {digest[:19]}..."),
        ("baseline RSS", mib(phases["baseline"].peak_rss)),
        (f"upload {peak}", f"{mib(phases['upload'].peak_rss)} / {mib(phases['upload'].hwm)}"),
        (f"download {peak}", f"{mib(phases['download'].peak_rss)} / {mib(phases['download'].hwm)}"),
        ("RSS after", mib(after["VmRSS"])),
        (
            "upload",
            f"{args.size_mib / api_seconds:.1f} MiB/s in API calls "
            f"({upload_wall:.1f} s wall, {generating:.1f} s generating)",
        ),
        ("download", f"{args.size_mib / download_seconds:.1f} MiB/s ({download_seconds:.1f} s)"),
        ("sha256", "verified"),
        ("samples", ", ".join(f"{name} {phase.samples}" for name, phase in phases.items())),
    ]
    print_table(f"Server memory, {args.size_mib} MiB layer", rows)


if __name__ == "__main__":
    main()
