"""GetDownloadUrlForLayer and the /v2/ blob redirect on PostgreSQL + S3, with one and two replicas.

What runs, all on 127.0.0.1, in one temp dir deleted at the end:

- one moto S3 server, one fresh PostgreSQL database (dropped at the end), and
  ``layerport serve --database postgresql://… --store s3://…`` replicas that
  announce the nginx URL as their public URL;
- nginx with the repository's ``deploy/nginx.conf`` (``tests/backends/nginx.py``):
  first in front of one replica, then, restarted on the same port, of two;
- CNCF Distribution 2.8 (Debian's ``docker-registry``) on S3 storage in the
  same moto server, ``redirect`` on, once with the in-memory blob-descriptor
  cache of Debian's own config and once without a cache.

One image (three tar+gzip layers and a config, built as an OCI layout) is
pushed to layerport with boto3 and to Distribution with ``skopeo copy``, so
both hold the same blobs.  Then, at ``--concurrency`` for ``--warmup`` +
``--duration`` seconds each:

- GetDownloadUrlForLayer (200 with a ``downloadUrl``), with the pre-signed
  request pool and load of ``get_download_url.py``: one replica direct, one
  through nginx (the nginx hop on its own), two through nginx;
- the /v2/ blob GET (307, not followed), Basic ``AWS:<token>``, with the load
  of ``registry_vs_distribution.py``: the same three set-ups and both
  Distributions (no auth).

Both loads use keep-alive connections, pre-rendered requests on raw asyncio
streams by default (``--client``).  Before each run one answer per blob is
followed to the object store and the bytes compared, and ``PROBE_REQUESTS`` sequential
requests count the S3 calls the server makes per request (lines in moto's
request log): layerport's hot path should make none.  CPU is reported per
process group in cores; the machine's few cores are shared by all of them and
by this client, which the output says.

    .venv/bin/python bench/replicas_s3.py [--duration 15] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tests.media_types import OCI_MANIFEST

import distribution
import layerport
from _common import (
    ACCESS_KEY_ID,
    MIB,
    REGION,
    SECRET_ACCESS_KEY,
    cpu_seconds,
    exit_on_sigterm,
    print_columns,
)
from get_download_url import POOL_RATE, REPOSITORY, Target, percentile, sign_pool
from get_download_url import fire as fire_ecr
from registry_vs_distribution import LOAD_GRACE, Load, Peer, Skopeo
from registry_vs_distribution import fire as fire_v2

# isort: split
# tests/ is importable once _common has put the repository root on sys.path.
from tests.backends.nginx import Nginx
from tests.registry.oci_layout import Blob, Layout
from tests.support import (
    S3_CREDENTIALS,
    S3Server,
    Server,
    drop_postgres_database,
    free_port,
    postgres_database,
    registry_login,
    upload_blob,
)

TAG = "bench"
#: Sizes of the files in the image's three layers (random bytes: gzip keeps them about as big).
LAYER_SIZES = (4 * 1024, 64 * 1024, MIB)
#: Sequential requests per set-up whose S3 calls are counted.
PROBE_REQUESTS = 20
DISTRIBUTION_BUCKET = "distribution-bench"
#: One request line of moto's (werkzeug's) log: ``"GET /bucket/key HTTP/1.1" 200 -``.
S3_LOG_LINE = re.compile(rb'"(?:GET|HEAD|PUT|POST|DELETE) \S+ HTTP/1\.[01]" \d{3}')
#: Process groups whose CPU each row reports, in column order.
GROUPS = ("layerport", "nginx", "postgres", "moto", "distribution", "client")
ECR_LOAD = "GetDownloadUrlForLayer (200)"
V2_LOAD = "/v2/ blob GET (307)"
#: What a load run hands back: measured latencies, measured seconds, errors, a note.
Outcome = tuple[list[float], float, Counter[str], str]


# --- processes and their CPU ----------------------------------------------------------------


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _pids() -> Iterator[int]:
    return (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())


def with_children(pid: int) -> list[int]:
    """``pid`` and its direct children (nginx's master and its workers)."""
    return [pid, *(child for child in _pids() if _parent(child) == pid)]


def postgres_backends(database: str) -> list[int]:
    """Server processes connected to ``database``.

    Their title is ``postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE``; Debian
    sets ``cluster_name`` (``15/main``), which adds the part in brackets.
    """
    found = []
    for pid in _pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
        except OSError:
            continue
        if not title or title[0] != b"postgres:":
            continue
        words = title[2:] if len(title) > 1 and title[1].endswith(b":") else title[1:]
        if len(words) > 1 and words[1] == database.encode():
            found.append(pid)
    return found


@dataclass
class Processes:
    """Where to find each group's pids; they are looked up afresh at every reading."""

    groups: dict[str, Callable[[], list[int]]] = field(default_factory=dict)

    def read(self) -> dict[str, dict[int, float]]:
        """CPU seconds used so far, per group and pid (a process that is gone is left out)."""
        seconds: dict[str, dict[int, float]] = {}
        for name, find in self.groups.items():
            seconds[name] = {}
            for pid in find():
                try:
                    seconds[name][pid] = cpu_seconds(pid)
                except (OSError, IndexError):
                    continue
        return seconds


def cores(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]], wall: float
) -> dict[str, float]:
    """Cores each group used between two readings (a process started in between counts whole)."""
    return {
        name: sum(used - before.get(name, {}).get(pid, 0.0) for pid, used in pids.items()) / wall
        for name, pids in after.items()
    }


# --- the S3 server's request log ------------------------------------------------------------


@dataclass(frozen=True)
class S3Log:
    """Counts requests moto has answered, from its log (one line per request)."""

    path: Path

    def count(self) -> int:
        return len(S3_LOG_LINE.findall(self.path.read_bytes()))

    def settled_count(self) -> int:
        """The count once moto has written the lines of requests already answered."""
        time.sleep(0.3)
        return self.count()

    def check_logged(self, since: int, downloads: int) -> None:
        """Fail unless ``downloads`` GETs since ``since`` show up (else counts would read 0)."""
        if self.settled_count() - since < downloads:
            raise RuntimeError(f"moto's log {self.path} does not show its requests")


# --- the image ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    """The bench image as an OCI layout: its manifest, and every blob (layers, config) by digest."""

    layout: Path
    manifest: Blob
    blobs: dict[str, bytes]

    @property
    def digests(self) -> list[str]:
        return list(self.blobs)


def build_image(root: Path, seed: int) -> Image:
    """Three tar+gzip layers of one PRNG file each, plus a config, tagged ``TAG``."""
    rng = random.Random(seed)
    layout = Layout(root)
    manifest, layers = layout.image(
        [{f"layer-{i}.bin": rng.randbytes(size)} for i, size in enumerate(LAYER_SIZES)]
    )
    layout.tag(manifest, TAG)
    config = json.loads(manifest.data)["config"]["digest"]
    blobs = {blob.digest: blob.data for blob in layers}
    blobs[config] = (root / "blobs" / "sha256" / config.split(":", 1)[1]).read_bytes()
    return Image(root, manifest, blobs)


def ecr_client(url: str) -> Any:
    """boto3's ECR client for ``url`` with the replicas' admin key."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ecr",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 1}),
    )


def push_with_boto3(url: str, image: Image) -> None:
    """CreateRepository, one layer upload per blob, PutImage of the layout's manifest bytes."""
    ecr = ecr_client(url)
    ecr.create_repository(repositoryName=REPOSITORY)
    for data in image.blobs.values():
        upload_blob(ecr, REPOSITORY, data)
    ecr.put_image(
        repositoryName=REPOSITORY,
        imageManifest=image.manifest.data.decode(),
        imageManifestMediaType=OCI_MANIFEST,
        imageTag=TAG,
    )


# --- CNCF Distribution on S3 ----------------------------------------------------------------


def distribution_config(
    root: Path, port: int, s3_url: str, cache: bool, quiet: bool
) -> dict[str, object]:
    """``distribution.config`` with S3 storage in ``DISTRIBUTION_BUCKET`` and redirects on.

    2.8 has no ``forcepathstyle`` (added in 3.0): it uses path-style addressing
    whenever ``regionendpoint`` is set, which moto on 127.0.0.1 needs.
    """
    config = distribution.config(root, port, quiet)
    storage: dict[str, object] = {
        "s3": {
            "accesskey": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],  # moto accepts any key
            "secretkey": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "region": REGION,
            "regionendpoint": s3_url,
            "bucket": DISTRIBUTION_BUCKET,
            "secure": False,
            "v4auth": True,
            "rootdirectory": "/distribution",
        },
        "delete": {"enabled": True},
        "redirect": {"disable": False},
    }
    if cache:
        storage["cache"] = {"blobdescriptor": "inmemory"}
    config["storage"] = storage
    return config


@contextmanager
def distribution_on_s3(
    work: Path, s3_url: str, cache: bool, quiet: bool
) -> Iterator[distribution.Distribution]:
    """Start Distribution on S3 in ``work``; it is stopped at the end, also on failure."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config_path = work / "config.yml"
    config_path.write_text(json.dumps(distribution_config(work, port, s3_url, cache, quiet)))
    log_path = work / "registry.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [distribution.BINARY, "serve", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its config alone decides: the AWS SDK would also read AWS_* variables, and an
            # AWS_CA_BUNDLE makes 2.8 panic on an http:// endpoint.
            env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            # Distribution's own helper: SIGTERM to it if this script dies without cleaning up.
            preexec_fn=distribution._die_with_parent,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        distribution._wait_ready(process, url, log_path, 30.0)
        yield distribution.Distribution(url, process.pid, work, log_path)
    finally:
        distribution._stop(process)


# --- one measured row -----------------------------------------------------------------------


@dataclass
class Row:
    """One set-up under one load."""

    setup: str
    load: str
    latencies: list[float]
    elapsed: float
    errors: Counter[str]
    s3_per_request: float
    cpu: dict[str, float]
    note: str = ""

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


@dataclass
class Bench:
    """What every row needs: options, the S3 log, the processes to meter, the image."""

    args: argparse.Namespace
    s3_log: S3Log
    processes: Processes
    image: Image
    rows: list[Row] = field(default_factory=list)

    def measure(self, setup: str, load: str, s3_calls: float, run: Callable[[], Outcome]) -> None:
        """Run one bounded load and add its row, with the cores each group used meanwhile."""
        print(f"  {setup}: {load} for {self.args.duration:g} s", flush=True)
        before, started = self.processes.read(), time.perf_counter()
        latencies, elapsed, errors, note = run()
        cpu = cores(before, self.processes.read(), time.perf_counter() - started)
        self.rows.append(Row(setup, load, latencies, elapsed, errors, s3_calls, cpu, note))

    def ecr(self, setup: str, url: str) -> None:
        """GetDownloadUrlForLayer against ``url``: check, count S3 calls, sign, fire."""
        ecr = ecr_client(url)
        start = self.s3_log.count()
        for digest, data in self.image.blobs.items():
            answer = ecr.get_download_url_for_layer(repositoryName=REPOSITORY, layerDigest=digest)
            if fetch(answer["downloadUrl"]) != data:
                raise RuntimeError(f"{setup}: the downloadUrl of {digest} gave other bytes")
        self.s3_log.check_logged(start, len(self.image.blobs))
        start = self.s3_log.settled_count()
        for index in range(PROBE_REQUESTS):
            digest = self.image.digests[index % len(self.image.digests)]
            ecr.get_download_url_for_layer(repositoryName=REPOSITORY, layerDigest=digest)
        s3_calls = (self.s3_log.settled_count() - start) / PROBE_REQUESTS

        args = self.args
        target = Target(url, ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION)
        size = args.pool or int((args.warmup + args.duration) * POOL_RATE)
        print(f"  {setup}: signing {size} requests ...", flush=True)
        pool, _ = sign_pool(target, self.image.digests, size)

        def run() -> Outcome:
            limit = args.warmup + args.duration + LOAD_GRACE
            results, elapsed = asyncio.run(
                asyncio.wait_for(
                    fire_ecr(
                        target, pool, args.concurrency, args.warmup, args.duration, args.client
                    ),
                    limit,
                )
            )
            sent = len(results.latencies) + results.warmup_requests + sum(results.errors.values())
            note = "pool ran out; raise --pool" if sent >= len(pool) else ""
            return results.latencies, elapsed, results.errors, note

        self.measure(setup, ECR_LOAD, s3_calls, run)

    def redirect(self, setup: str, url: str, pid: int, headers: dict[str, str]) -> None:
        """The /v2/ blob GET against ``url``: check, count S3 calls, fire (307 not followed)."""
        urls = [f"{url}/v2/{REPOSITORY}/blobs/{digest}" for digest in self.image.digests]
        load = Load("GET blob", "GET", urls, frozenset({307}), headers)
        s3_calls = asyncio.run(self.check_redirects(setup, load))

        def run() -> Outcome:
            rate = asyncio.run(fire_v2(load, self.args, pid))
            return rate.latencies, rate.elapsed, rate.errors, ""

        self.measure(setup, V2_LOAD, s3_calls, run)

    async def check_redirects(self, setup: str, load: Load) -> float:
        """Follow each blob's 307 once and check the bytes; return S3 calls per blob GET."""
        timeout = aiohttp.ClientTimeout(total=LOAD_GRACE)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            start = self.s3_log.count()
            for url, (digest, data) in zip(load.urls, self.image.blobs.items(), strict=True):
                async with session.get(url, headers=load.headers, allow_redirects=False) as answer:
                    await answer.read()
                    location = answer.headers.get("Location", "")
                if answer.status != 307 or not location:
                    raise RuntimeError(f"{setup}: GET {url} answered {answer.status}, not a 307")
                async with session.get(location) as blob:
                    if await blob.read() != data:
                        raise RuntimeError(f"{setup}: the redirect for {digest} gave other bytes")
            await asyncio.to_thread(self.s3_log.check_logged, start, len(self.image.blobs))
            start = await asyncio.to_thread(self.s3_log.settled_count)
            for index in range(PROBE_REQUESTS):
                url = load.urls[index % len(load.urls)]
                async with session.get(url, headers=load.headers, allow_redirects=False) as answer:
                    await answer.read()
            end = await asyncio.to_thread(self.s3_log.settled_count)
        return (end - start) / PROBE_REQUESTS


def fetch(url: str) -> bytes:
    """GET a pre-signed URL (on 127.0.0.1) and return the body."""
    if not url.startswith("http://127.0.0.1:"):
        raise RuntimeError(f"a download URL outside this machine: {url}")
    # S310: checked just above to be plain http on loopback.
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310
        return bytes(answer.read())


# --- the set-ups ----------------------------------------------------------------------------


def replica(work: Path, name: str, database: str, store: str, public_url: str) -> Server:
    """A replica on the shared stores, announcing the balancer's URL."""
    return Server(
        work / name,
        database=database,
        store=store,
        extra_env={"LAYERPORT_PUBLIC_URL": public_url},
    )


def started(stack: ExitStack, process: Any) -> Any:
    """Start a Server, Nginx or S3Server; ``stack`` stops it at the end, even if start fails."""
    stack.callback(process.stop)
    return process.start()


def run_layerport(bench: Bench, s3: S3Server, work: Path) -> None:
    """One replica direct and through nginx, then two through nginx; the database is dropped."""
    name = f"lp_bench_replicas_{os.getpid()}"
    try:
        database = postgres_database(name)
    except pytest.skip.Exception as exc:
        raise SystemExit(str(exc)) from None
    with ExitStack() as stack:
        stack.callback(drop_postgres_database, name)
        store = s3.bucket(name.replace("_", "-"))
        nginx_port = free_port()
        public = f"http://127.0.0.1:{nginx_port}"
        a = started(stack, replica(work, "replica-a", database, store, public))
        nginx = started(stack, Nginx(work / "nginx-1", [a.port], port=nginx_port))
        push_with_boto3(a.url, bench.image)
        user, password = registry_login(a)
        basic = Peer("layerport", public, 0, f"{user}:{password}").headers()
        replicas = [a]
        meter = bench.processes.groups
        meter["layerport"] = lambda: [r.process.pid for r in replicas if r.process]
        meter["nginx"] = lambda: with_children(nginx.process.pid) if nginx.process else []
        meter["postgres"] = lambda: postgres_backends(name)

        one, via = "layerport, 1 replica, direct", "layerport, 1 replica, via nginx"
        bench.ecr(one, a.url)
        bench.ecr(via, nginx.url)
        bench.redirect(one, a.url, a.process.pid, basic)
        bench.redirect(via, nginx.url, a.process.pid, basic)

        nginx.stop()
        replicas.append(started(stack, replica(work, "replica-b", database, store, public)))
        nginx = started(stack, Nginx(work / "nginx-2", [r.port for r in replicas], nginx_port))
        two = "layerport, 2 replicas, via nginx"
        bench.ecr(two, nginx.url)
        bench.redirect(two, nginx.url, a.process.pid, basic)
        for group in ("layerport", "nginx", "postgres"):
            del meter[group]


def run_distribution(bench: Bench, s3: S3Server, work: Path, skopeo: str) -> None:
    """Distribution on the same S3 server, redirect on: with the in-memory cache, then without."""
    s3.client().create_bucket(Bucket=DISTRIBUTION_BUCKET)
    authfile = work / "auth.json"
    authfile.write_text(json.dumps({"auths": {}}))
    quiet = not bench.args.distribution_logs
    for cache in (True, False):
        label = "inmemory cache" if cache else "no cache"
        root = work / f"distribution-{'cache' if cache else 'nocache'}"
        with distribution_on_s3(root, s3.url, cache, quiet) as registry:
            if cache:  # the second one finds the image already in the bucket
                peer = Peer("Distribution", registry.url, registry.pid, None)
                Skopeo(skopeo, authfile).push(peer, bench.image.layout, TAG, REPOSITORY)
            bench.processes.groups["distribution"] = lambda pid=registry.pid: [pid]
            bench.redirect(
                f"Distribution 2.8, S3 redirect, {label}", registry.url, registry.pid, {}
            )
            del bench.processes.groups["distribution"]


# --- the table ------------------------------------------------------------------------------


def report(bench: Bench) -> None:
    """One table of every row, then the ratios."""
    table = []
    for row in bench.rows:
        ordered = sorted(row.latencies)
        errors = ", ".join(f"{n} x {why}" for why, n in row.errors.most_common(3)) or "0"
        if row.note:
            errors += f" ({row.note})"
        table.append(
            [
                row.setup,
                row.load,
                f"{row.per_second:.0f}",
                f"{percentile(ordered, 0.5) * 1000:.1f}",
                f"{percentile(ordered, 0.99) * 1000:.1f}",
                errors,
                f"{row.s3_per_request:.2f}",
                *(f"{row.cpu[g]:.2f}" if g in row.cpu else "-" for g in GROUPS),
            ]
        )
    args = bench.args
    cpus = len(os.sched_getaffinity(0))
    print_columns(
        f"c={args.concurrency}, {args.duration:g} s measured after {args.warmup:g} s warm-up;"
        f" CPU in cores of {cpus}, shared by moto, PostgreSQL, nginx, the servers and this client",
        ["setup", "load", "req/s", "p50 ms", "p99 ms", "errors", "S3 calls/req", *GROUPS],
        table,
    )

    def rate(setup: str, load: str) -> float:
        found = [row.per_second for row in bench.rows if row.setup == setup and row.load == load]
        return found[0] if found else 0.0

    def ratio(ours: float, theirs: float) -> str:
        return f"{ours / theirs:.2f}" if theirs else "-"

    layerport_setups = list(dict.fromkeys(r.setup for r in bench.rows if r.load == ECR_LOAD))
    peers = [r.setup for r in bench.rows if r.setup.startswith("Distribution")]
    ratios = [
        [setup, *(ratio(rate(setup, V2_LOAD), rate(peer, V2_LOAD)) for peer in peers)]
        for setup in layerport_setups
    ]
    print_columns(
        f"{V2_LOAD} req/s, layerport / Distribution (higher is better for layerport)",
        ["layerport set-up", *(p.removeprefix("Distribution 2.8, S3 redirect, ") for p in peers)],
        ratios,
    )
    one, via, two = layerport_setups
    print("\nscaling and the nginx hop (req/s ratios):")
    for load in (ECR_LOAD, V2_LOAD):
        print(
            f"  {load}: 2 replicas / 1 (both via nginx) {ratio(rate(two, load), rate(via, load))};"
            f" via nginx / direct (1 replica) {ratio(rate(via, load), rate(one, load))}"
        )
    if any(row.cpu.get("client", 0.0) > 0.9 for row in bench.rows):
        print("note: the client used a whole core in some runs; those rates are client-bound.")


# --- main -----------------------------------------------------------------------------------


def tool_version(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    return (done.stdout or done.stderr).strip()


def run(args: argparse.Namespace, skopeo: str) -> None:
    """Start everything, measure every row, stop everything; then report."""
    with (
        tempfile.TemporaryDirectory(prefix="layerport-bench-replicas-") as tmp,
        ExitStack() as stack,
    ):
        work = Path(tmp)
        image = build_image(work / "layout", args.seed)
        s3 = started(stack, S3Server(work / "moto.log"))
        processes = Processes(
            {
                "moto": lambda: [s3.process.pid] if s3.process else [],
                "client": lambda: [os.getpid()],
            }
        )
        bench = Bench(args, S3Log(s3.log), processes, image)
        print(f"moto S3 at {s3.url}; work dir {work}", flush=True)
        run_layerport(bench, s3, work)
        run_distribution(bench, s3, work, skopeo)
    report(bench)


def main() -> None:
    """Parse options, check the tools, run, report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in flight")
    parser.add_argument(
        "--pool", type=int, default=0, help=f"signed requests per row (default {POOL_RATE}/s)"
    )
    parser.add_argument(
        "--client",
        choices=["raw", "aiohttp"],
        default="raw",
        help="pre-rendered requests on asyncio streams (cheapest), or aiohttp's ClientSession",
    )
    parser.add_argument("--seed", type=int, default=1, help="PRNG seed of the layer bytes")
    parser.add_argument(
        "--distribution-logs", action="store_true", help="keep Distribution's info and access log"
    )
    args = parser.parse_args()
    skopeo = shutil.which("skopeo")
    for tool, package in ((skopeo, "skopeo"), (shutil.which("nginx"), "nginx")):
        if tool is None:
            parser.error(f"{package} is not installed (apt-get install {package})")
    if not Path(distribution.BINARY).exists():
        parser.error(f"{distribution.BINARY} is missing (apt-get install docker-registry)")
    assert skopeo is not None
    exit_on_sigterm()
    print(
        f"layerport {layerport.__version__}; {distribution.version()};"
        f" {tool_version(['nginx', '-v'])}; moto {metadata.version('moto')};"
        f" {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable);"
        f" Python {platform.python_version()}"
    )
    run(args, skopeo)


if __name__ == "__main__":
    main()
