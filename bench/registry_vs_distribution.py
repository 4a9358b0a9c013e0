"""layerport's registry face side by side with CNCF Distribution, in one run, on this machine.

What is measured, on both servers in turn, with the same clients:

- push and pull time (``skopeo copy``) of an image with one large layer
  (``--large-mib``) and of an image with many small layers (``--small-layers``);
- requests per second at ``--concurrency`` for ``--duration`` seconds each:
  HEAD blob, GET manifest (by tag), and GET blob without following redirects.
  layerport answers that GET with a 307 to the pre-signed URL; Distribution on
  filesystem storage cannot redirect and streams the blob instead, so that row
  uses a small (``--small-kib``) blob on both sides and is labelled as such;
- server memory: VmRSS and VmHWM sampled while each server takes the pushes and
  pulls; the large image's peak, and how far it rises over the small image's
  (flat in layer size means it does not rise).

Every ratio is written so that higher is better for layerport: for times,
Distribution's seconds over layerport's; for request rates, layerport's over
Distribution's.  Memory is shown as layerport's over Distribution's (lower is
leaner).

layerport is started with the test suite's ``Server`` (SQLite plus a filesystem
store) and spoken to as ECR users do: Basic ``AWS:<GetAuthorizationToken
password>``.  Distribution is Debian's ``docker-registry`` (``apt-get install
docker-registry``), run by ``distribution.py`` with filesystem storage and no
auth.  Both listen on 127.0.0.1 only, in temp dirs (under ``$TMPDIR``) that are
deleted at the end, also on failure, Ctrl-C or SIGTERM.  The large layer is a
real tar+gzip written to disk in 1 MiB blocks from a seeded PRNG, so the script
never holds it in memory; the work dir needs about three times its size free.

    .venv/bin/python bench/registry_vs_distribution.py [--large-mib 1024] [--small-layers 200]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

import aiohttp
from tests.media_types import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST

import distribution
import layerport
from _common import MIB, cpu_seconds, fresh_server, print_columns
from get_download_url import parse_head, percentile
from layer_rss import Sampler

# isort: split
# tests/ is importable once _common has put the repository root on sys.path.
from tests.registry.oci_layout import Blob, Layout
from tests.support import registry_login

LARGE_TAG, SMALL_TAG = "large", "small"
LARGE_REPO, SMALL_REPO = "bench/large", "bench/small"
MANIFEST_ACCEPT = ", ".join((OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json"))
#: Seconds one skopeo copy may take before the run gives up (1 GiB at ~2 MiB/s).
SKOPEO_TIMEOUT = 900
#: Seconds past warm-up plus duration after which a load run is cancelled.
LOAD_GRACE = 30


# --- images ---------------------------------------------------------------------------------


class _Hashing:
    """A write-only file that hashes and counts what passes through to ``sink``."""

    def __init__(self, sink: IO[bytes]) -> None:
        self.sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.sink.write(data)

    def flush(self) -> None:
        self.sink.flush()

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


def stream_layer(directory: Path, size: int, seed: int) -> tuple[dict[str, Any], str]:
    """Write a tar.gz layer holding one ``size``-byte file of PRNG bytes into ``directory``.

    The tar is produced by hand (one header, the data in 1 MiB blocks, padding,
    the end-of-archive blocks, as ``tarfile`` lays them out) so that nothing
    but one block is ever in memory.  Gzip level 1: the bytes are random, so a
    higher level would only cost time.  Returns the layer's descriptor and its
    diff id (the digest of the uncompressed tar).
    """
    rng = random.Random(seed)
    info = tarfile.TarInfo("large.bin")
    info.size, info.mtime, info.mode = size, 0, 0o644
    partial = directory / "large.partial"
    with partial.open("wb") as file:
        compressed = _Hashing(file)
        with gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=1, mtime=0) as zipped:
            tar = _Hashing(zipped)
            tar.write(info.tobuf(tarfile.PAX_FORMAT))
            left = size
            while left:
                block = rng.randbytes(min(MIB, left))
                tar.write(block)
                left -= len(block)
            tar.write(b"\0" * (-size % tarfile.BLOCKSIZE))
            tar.write(b"\0" * (2 * tarfile.BLOCKSIZE))
            tar.write(b"\0" * (-tar.size % tarfile.RECORDSIZE))
    digest = compressed.digest
    partial.rename(directory / "blobs" / "sha256" / digest.split(":", 1)[1])
    return {"mediaType": OCI_LAYER, "digest": digest, "size": compressed.size}, tar.digest


def build_large(root: Path, size: int, seed: int) -> None:
    """An OCI layout at ``root`` tagged ``large``: one streamed layer of ``size`` bytes."""
    layout = Layout(root)
    descriptor, diff_id = stream_layer(root, size, seed)
    config = layout.write(
        Blob(
            OCI_CONFIG,
            json.dumps(
                {
                    "architecture": "amd64",
                    "os": "linux",
                    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                }
            ).encode(),
        )
    )
    manifest = layout.write(
        Blob(
            OCI_MANIFEST,
            json.dumps(
                {
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": config.descriptor(),
                    "layers": [descriptor],
                }
            ).encode(),
        )
    )
    layout.tag(manifest, LARGE_TAG)


def build_small(root: Path, count: int, size: int, seed: int) -> list[str]:
    """An OCI layout at ``root`` tagged ``small``: ``count`` layers of one ``size``-byte file.

    Returns the layer digests (the request-rate runs use them).
    """
    rng = random.Random(seed)
    layout = Layout(root)
    files = [{f"layer-{index:04d}.bin": rng.randbytes(size)} for index in range(count)]
    manifest, layers = layout.image(files)
    layout.tag(manifest, SMALL_TAG)
    return [blob.digest for blob in layers]


# --- the two servers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    """One server under test: where it is, who it is, and how clients authenticate."""

    name: str
    url: str
    pid: int
    creds: str | None  # ``user:password`` for skopeo; None for no auth

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc

    def headers(self) -> dict[str, str]:
        """The Authorization header every request carries (none without auth)."""
        if self.creds is None:
            return {}
        return {"Authorization": "Basic " + base64.b64encode(self.creds.encode()).decode()}


@contextmanager
def layerport_peer() -> Iterator[Peer]:
    """A fresh ``layerport serve`` with the two bench repositories, and a registry login."""
    with fresh_server("layerport-bench-lp-") as server:
        ecr = server.client()
        for repository in (LARGE_REPO, SMALL_REPO):
            ecr.create_repository(repositoryName=repository)
        user, password = registry_login(server)
        assert server.process is not None
        yield Peer("layerport", server.url, server.process.pid, f"{user}:{password}")


@contextmanager
def distribution_peer(quiet: bool) -> Iterator[Peer]:
    """A fresh Distribution (repositories appear on first push there)."""
    with distribution.running(quiet=quiet) as registry:
        yield Peer("Distribution", registry.url, registry.pid, None)


# --- skopeo ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skopeo:
    """``skopeo copy`` over plain HTTP with an empty auth file (never the user's own)."""

    binary: str
    authfile: Path

    def copy(self, source: str, destination: str, options: list[str]) -> float:
        """Run one copy; return its wall seconds, or raise with skopeo's own words."""
        env = {k: v for k, v in os.environ.items() if k not in ("REGISTRY_AUTH_FILE",)}
        started = time.perf_counter()
        done = subprocess.run(
            [self.binary, "copy", "--authfile", str(self.authfile), *options, source, destination],
            capture_output=True,
            text=True,
            env=env,
            timeout=SKOPEO_TIMEOUT,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"skopeo copy {source} {destination} failed:\n{done.stderr[-4000:]}")
        return seconds

    def push(self, peer: Peer, layout: Path, tag: str, repository: str) -> float:
        options = ["--dest-tls-verify=false"]
        if peer.creds:
            options += ["--dest-creds", peer.creds]
        return self.copy(f"oci:{layout}:{tag}", f"docker://{peer.host}/{repository}:{tag}", options)

    def pull(self, peer: Peer, repository: str, tag: str, into: Path) -> float:
        options = ["--src-tls-verify=false"]
        if peer.creds:
            options += ["--src-creds", peer.creds]
        try:
            return self.copy(
                f"docker://{peer.host}/{repository}:{tag}", f"oci:{into}:{tag}", options
            )
        finally:
            shutil.rmtree(into, ignore_errors=True)  # a pulled 1 GiB layer must not pile up


@dataclass
class Transfers:
    """What one peer did with the two images."""

    seconds: dict[str, float] = field(default_factory=dict)
    idle_kib: int = 0
    small_peak_kib: int = 0
    large_peak_kib: int = 0


def transfer(
    skopeo: Skopeo, peer: Peer, layouts: Path, scratch: Path, interval: float
) -> Transfers:
    """Push and pull both images, small first, sampling the server's memory per phase."""
    sampler = Sampler(peer.pid, interval)
    result = Transfers()
    sampler.start()
    try:
        sampler.enter("idle")
        time.sleep(1)
        sampler.leave()
        for kind, repository in ((SMALL_TAG, SMALL_REPO), (LARGE_TAG, LARGE_REPO)):
            print(f"  {peer.name}: push and pull the {kind} image", flush=True)
            sampler.enter(f"{kind} push")
            result.seconds[f"{kind} push"] = skopeo.push(peer, layouts / kind, kind, repository)
            sampler.leave()
            sampler.enter(f"{kind} pull")
            result.seconds[f"{kind} pull"] = skopeo.pull(peer, repository, kind, scratch / "pull")
            sampler.leave()
    finally:
        sampler.stop()

    def peak(*names: str) -> int:
        return max(max(sampler.phases[n].peak_rss, sampler.phases[n].hwm) for n in names)

    result.idle_kib = sampler.phases["idle"].peak_rss
    result.small_peak_kib = peak("small push", "small pull")
    result.large_peak_kib = peak("large push", "large pull")
    return result


# --- request rates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One kind of request: method, the URLs to cycle over, and the statuses that count as ok."""

    label: str
    method: str
    urls: list[str]
    ok: frozenset[int]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Rate:
    """What a load run saw; only requests started after the warm-up count."""

    measure_from: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def record(self, started: float, status: int, load: Load) -> None:
        if started < self.measure_from:
            return
        if status in load.ok:
            self.latencies.append(time.perf_counter() - started)
        else:
            self.errors[str(status)] += 1

    def fail(self, started: float, why: str) -> None:
        if started >= self.measure_from:
            self.errors[why] += 1

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def aiohttp_worker(
    session: aiohttp.ClientSession, load: Load, offset: int, deadline: float, rate: Rate
) -> None:
    """Send requests through aiohttp's client until the deadline; redirects are not followed."""
    index = offset
    while time.perf_counter() < deadline:
        url = load.urls[index % len(load.urls)]
        index += 1
        started = time.perf_counter()
        try:
            async with session.request(
                load.method, url, headers=load.headers, allow_redirects=False
            ) as response:
                await response.read()
        except aiohttp.ClientError as exc:
            rate.fail(started, type(exc).__name__)
            continue
        rate.record(started, response.status, load)


async def raw_worker(load: Load, offset: int, deadline: float, rate: Rate) -> None:
    """The same over one keep-alive connection with pre-rendered requests (the cheapest client)."""
    parts = urlsplit(load.urls[0])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    rendered = [render(load.method, url, load.headers) for url in load.urls]
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    index = offset
    try:
        while time.perf_counter() < deadline:
            request = rendered[index % len(rendered)]
            index += 1
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                writer.write(request)
                status, length, close = parse_head(await reader.readuntil(b"\r\n\r\n"))
                if load.method != "HEAD":
                    await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                rate.fail(started, type(exc).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            rate.record(started, status, load)
            if close and writer is not None:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


def render(method: str, url: str, headers: dict[str, str]) -> bytes:
    """The HTTP/1.1 request line and headers for ``url``."""
    parts = urlsplit(url)
    lines = [f"{method} {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def fire(load: Load, args: argparse.Namespace, pid: int) -> Rate:
    """Run ``args.concurrency`` workers for warm-up plus duration; bounded even if one hangs."""
    start = time.perf_counter()
    rate = Rate(measure_from=start + args.warmup)
    deadline = rate.measure_from + args.duration
    spread = max(1, len(load.urls) // args.concurrency)
    offsets = [worker * spread for worker in range(args.concurrency)]
    client_cpu, server_cpu = time.process_time(), cpu_seconds(pid)
    if args.client == "raw":
        workers = [raw_worker(load, offset, deadline, rate) for offset in offsets]
        await asyncio.wait_for(asyncio.gather(*workers), args.warmup + args.duration + LOAD_GRACE)
    else:
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        timeout = aiohttp.ClientTimeout(total=LOAD_GRACE)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, skip_auto_headers=["User-Agent"]
        ) as session:
            workers = [aiohttp_worker(session, load, o, deadline, rate) for o in offsets]
            await asyncio.wait_for(
                asyncio.gather(*workers), args.warmup + args.duration + LOAD_GRACE
            )
    wall = time.perf_counter() - start
    rate.elapsed = time.perf_counter() - rate.measure_from
    rate.client_cpu = (time.process_time() - client_cpu) / wall
    rate.server_cpu = (cpu_seconds(pid) - server_cpu) / wall
    return rate


def loads(peer: Peer, small_digests: list[str]) -> list[Load]:
    """HEAD blob, GET manifest and GET blob (redirect not followed) against ``peer``."""
    auth = peer.headers()
    blobs = [f"{peer.url}/v2/{SMALL_REPO}/blobs/{digest}" for digest in small_digests]
    manifest = [f"{peer.url}/v2/{LARGE_REPO}/manifests/{LARGE_TAG}"]
    get_ok = frozenset({307}) if peer.creds else frozenset({200})
    return [
        Load("HEAD blob", "HEAD", blobs, frozenset({200}), auth),
        Load(
            "GET manifest", "GET", manifest, frozenset({200}), {**auth, "Accept": MANIFEST_ACCEPT}
        ),
        Load("GET blob", "GET", blobs, get_ok, auth),
    ]


async def probe(load: Load) -> None:
    """One request of the kind first, so a wrong setup fails loudly instead of counting errors."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            load.method, load.urls[0], headers=load.headers, allow_redirects=False
        ) as response,
    ):
        body = await response.read()
    if response.status not in load.ok:
        raise RuntimeError(f"{load.method} {load.urls[0]}: {response.status} {body[:300]!r}")


def measure_rates(peer: Peer, small_digests: list[str], args: argparse.Namespace) -> list[Rate]:
    """Each load in turn against ``peer``."""
    rates = []
    for load in loads(peer, small_digests):
        asyncio.run(probe(load))
        print(f"  {peer.name}: {load.label} for {args.duration:g} s", flush=True)
        rates.append(asyncio.run(fire(load, args, peer.pid)))
    return rates


# --- the table ------------------------------------------------------------------------------


def faster(ours: float, theirs: float) -> float:
    """Speed ratio for durations: their seconds over ours."""
    return theirs / ours if ours else 0.0


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


def report(
    args: argparse.Namespace,
    transfers: dict[str, Transfers],
    rates: dict[str, list[Rate]],
) -> None:
    """Print the comparison table, then the load details (client-bound runs show there)."""
    lp, dist = transfers["layerport"], transfers["Distribution"]
    rows: list[list[str]] = []
    images = {
        LARGE_TAG: f"1 layer of {args.large_mib} MiB",
        SMALL_TAG: f"{args.small_layers} layers of {args.small_kib} KiB",
    }
    for kind in (LARGE_TAG, SMALL_TAG):
        for action in ("push", "pull"):
            ours, theirs = lp.seconds[f"{kind} {action}"], dist.seconds[f"{kind} {action}"]
            ratio = faster(ours, theirs)
            rows.append(
                [
                    f"{action} {images[kind]} (s)",
                    f"{ours:.2f}",
                    f"{theirs:.2f}",
                    f"{ratio:.2f}",
                    ">= 1.0",
                    verdict(ratio >= 1.0),
                ]
            )
    labels = [
        f"HEAD blob req/s, c={args.concurrency}",
        f"GET manifest req/s, c={args.concurrency}",
        f"GET blob req/s, c={args.concurrency} (*)",
    ]
    for label, ours, theirs in zip(labels, rates["layerport"], rates["Distribution"], strict=True):
        ratio = ours.per_second / theirs.per_second if theirs.per_second else 0.0
        clean = not ours.errors and not theirs.errors
        rows.append(
            [
                label,
                f"{ours.per_second:.0f}",
                f"{theirs.per_second:.0f}",
                f"{ratio:.2f}",
                ">= 3.0",
                verdict(ratio >= 3.0 and clean),
            ]
        )
    rise_limit = args.rss_rise_mib * 1024
    rows += [
        [
            "server RSS idle (MiB)",
            mib(lp.idle_kib),
            mib(dist.idle_kib),
            memory(lp, dist, "idle_kib"),
            "",
            "",
        ],
        [
            "server RSS peak, large push+pull (MiB)",
            mib(lp.large_peak_kib),
            mib(dist.large_peak_kib),
            memory(lp, dist, "large_peak_kib"),
            "",
            "",
        ],
        [
            "  rise over small image's peak (MiB)",
            mib(lp.large_peak_kib - lp.small_peak_kib),
            mib(dist.large_peak_kib - dist.small_peak_kib),
            "",
            f"<= {args.rss_rise_mib} (flat)",
            verdict(lp.large_peak_kib - lp.small_peak_kib <= rise_limit),
        ],
    ]
    print_columns(
        "layerport vs CNCF Distribution",
        ["metric", "layerport", "Distribution", "ratio", "goal", "met"],
        rows,
    )
    print(
        "ratio: for times Distribution's seconds / layerport's, for rates layerport / Distribution"
        " (higher is better for layerport); for RSS layerport / Distribution (lower is leaner).\n"
        "(*) layerport answers 307 to the pre-signed URL (not followed); Distribution on"
        f" filesystem storage cannot redirect and streams the blob (200, ~{args.small_kib} KiB"
        " gzipped), so both rows use the small image's layers."
    )
    details: list[list[str]] = []
    for name, runs in rates.items():
        for label, rate in zip(("HEAD blob", "GET manifest", "GET blob"), runs, strict=True):
            ordered = sorted(rate.latencies)
            errors = ", ".join(f"{n} x {why}" for why, n in rate.errors.most_common(3)) or "0"
            details.append(
                [
                    f"{name} {label}",
                    f"{len(ordered)} in {rate.elapsed:.1f} s",
                    f"{percentile(ordered, 0.5) * 1000:.1f}",
                    f"{percentile(ordered, 0.99) * 1000:.1f}",
                    f"{rate.server_cpu:.0%}",
                    f"{rate.client_cpu:.0%}",
                    errors,
                ]
            )
    print_columns(
        f"Load details ({args.client} client; CPU as share of one core)",
        ["run", "ok requests", "p50 ms", "p99 ms", "server CPU", "client CPU", "errors"],
        details,
    )
    if any(rate.client_cpu > 0.9 for runs in rates.values() for rate in runs):
        print("note: the client used a whole core in some runs; those rates are client-bound.")


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def memory(lp: Transfers, dist: Transfers, name: str) -> str:
    ours, theirs = getattr(lp, name), getattr(dist, name)
    return f"{ours / theirs:.2f}" if theirs else ""


# --- main -----------------------------------------------------------------------------------


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so servers stop and temp dirs go."""
    raise SystemExit(128 + signum)


def run(args: argparse.Namespace, skopeo_binary: str) -> None:
    """Build, start, transfer, load, report; everything started is stopped and deleted."""
    with tempfile.TemporaryDirectory(prefix="layerport-bench-rvd-") as tmp:
        work = Path(tmp)
        authfile = work / "auth.json"
        authfile.write_text(json.dumps({"auths": {}}))
        skopeo = Skopeo(skopeo_binary, authfile)
        layouts = work / "layouts"

        started = time.perf_counter()
        print(f"building images in {work} ...", flush=True)
        build_large(layouts / LARGE_TAG, args.large_mib * MIB, args.seed)
        small_digests = build_small(
            layouts / SMALL_TAG, args.small_layers, args.small_kib * 1024, args.seed + 1
        )
        print(f"  built in {time.perf_counter() - started:.1f} s", flush=True)

        peers: list[tuple[str, Callable[[], Any]]] = [
            ("layerport", layerport_peer),
            ("Distribution", lambda: distribution_peer(quiet=not args.distribution_logs)),
        ]
        transfers: dict[str, Transfers] = {}
        rates: dict[str, list[Rate]] = {}
        for name, start in peers:
            with start() as peer:
                print(f"{name} at {peer.url} (pid {peer.pid})", flush=True)
                transfers[name] = transfer(skopeo, peer, layouts, work, args.interval)
                rates[name] = measure_rates(peer, small_digests, args)
    report(args, transfers, rates)


def main() -> None:
    """Parse options, check the tools, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--large-mib", type=int, default=1024, help="size of the one large layer")
    parser.add_argument("--small-layers", type=int, default=200, help="layers of the small image")
    parser.add_argument("--small-kib", type=int, default=4, help="file size in each small layer")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per rate")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in flight")
    parser.add_argument(
        "--client",
        choices=["aiohttp", "raw"],
        default="aiohttp",
        help="aiohttp's ClientSession, or pre-rendered requests on raw asyncio streams",
    )
    parser.add_argument("--interval", type=float, default=0.1, help="RSS sampling period, s")
    parser.add_argument(
        "--rss-rise-mib", type=int, default=32, help="most the large image may add to peak RSS"
    )
    parser.add_argument("--seed", type=int, default=1, help="PRNG seed of the layer bytes")
    parser.add_argument(
        "--distribution-logs",
        action="store_true",
        help="keep Distribution's info log and access log (layerport keeps none by default)",
    )
    args = parser.parse_args()
    skopeo_binary = shutil.which("skopeo")
    if skopeo_binary is None:
        parser.error("skopeo is not installed (apt-get install skopeo)")
    if not Path(distribution.BINARY).exists():
        parser.error(f"{distribution.BINARY} is missing (apt-get install docker-registry)")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    skopeo_version = subprocess.run(
        [skopeo_binary, "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
    print(
        f"layerport {layerport.__version__}; {distribution.version()}; {skopeo_version};"
        f" {os.cpu_count()} CPUs; Python {platform.python_version()}"
    )
    run(args, skopeo_binary)


if __name__ == "__main__":
    main()
