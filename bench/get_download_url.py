"""GetDownloadUrlForLayer throughput and latency at a fixed concurrency.

Why it is built this way: on a small machine a Python load generator competes
with the server for CPU, so the client does as little as it can while the
clock runs.  Every request is still signed the way boto3 signs it (botocore's
``SigV4Auth`` on an ``AWSRequest``, with boto3's signed ``amz-sdk-invocation-id``
header, so every signature is distinct and ``X-Amz-Date`` is current), but the
signing happens *before* the timed run: the pool of signed requests stays
valid for the 15-minute clock skew SigV4 allows, so the server cannot tell
them from fresh ones.  Signing cost is measured and reported on its own.
Requests are then fired over keep-alive connections, one per worker, either as
pre-rendered bytes on raw asyncio streams (the default, the cheapest client)
or through aiohttp's ``ClientSession``.

Every response must be 200 with a ``downloadUrl``; anything else is an error.
The run is bounded by ``--duration`` and by the pool's size, and targets a
server on 127.0.0.1 that the script starts itself (or ``--url``).

    .venv/bin/python bench/get_download_url.py [--duration 20] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from _common import (
    ACCESS_KEY_ID,
    MIB,
    REGION,
    SECRET_ACCESS_KEY,
    cpu_seconds,
    fresh_server,
    memory_kib,
    print_table,
    push_image,
)

TARGET = "AmazonEC2ContainerRegistry_V20150921.GetDownloadUrlForLayer"
REPOSITORY = "layerport-bench"
#: Requests signed per second of run when --pool is not given (twice the 3,000 req/s goal).
POOL_RATE = 6000


@dataclass(frozen=True)
class Target:
    """Where the load goes and who signs it."""

    url: str
    access_key_id: str
    secret_access_key: str
    region: str


@dataclass(frozen=True)
class Signed:
    """One request, signed once: its headers and body, and the same as raw HTTP/1.1 bytes."""

    headers: dict[str, str]
    body: bytes
    raw: bytes


@dataclass
class Results:
    """What the workers saw; only requests started after the warm-up count."""

    measure_from: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    warmup_requests: int = 0

    def record(self, started: float, ok: bool, why: str = "") -> None:
        """Count one finished request."""
        if started < self.measure_from:
            self.warmup_requests += 1
        elif ok:
            self.latencies.append(time.perf_counter() - started)
        else:
            self.errors[why] += 1


def sign_pool(target: Target, digests: list[str], count: int) -> tuple[list[Signed], float]:
    """``count`` individually signed requests, cycling over ``digests``; and seconds per signing."""
    signer = SigV4Auth(
        Credentials(target.access_key_id, target.secret_access_key), "ecr", target.region
    )
    url = target.url.rstrip("/") + "/"
    host = urlsplit(url).netloc
    bodies = [
        json.dumps({"repositoryName": REPOSITORY, "layerDigest": digest}).encode()
        for digest in digests
    ]
    pool: list[Signed] = []
    started = time.perf_counter()
    for index in range(count):
        body = bodies[index % len(bodies)]
        request = AWSRequest(
            method="POST",
            url=url,
            data=body,
            headers={
                "X-Amz-Target": TARGET,
                "Content-Type": "application/x-amz-json-1.1",
                "amz-sdk-invocation-id": str(uuid.uuid4()),
                "amz-sdk-request": "attempt=1; max=1",
            },
        )
        signer.add_auth(request)
        headers = dict(request.headers.items())
        pool.append(Signed(headers, body, b""))
    per_request = (time.perf_counter() - started) / count
    # Rendering raw bytes is the client's own business, not signing: keep it out of the cost.
    return [
        Signed(signed.headers, signed.body, render(host, signed.headers, signed.body))
        for signed in pool
    ], per_request


def render(host: str, headers: dict[str, str], body: bytes) -> bytes:
    """The HTTP/1.1 request a client would put on the wire."""
    lines = ["POST / HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def check(status: int, body: bytes) -> str:
    """Empty when the answer is a 200 with a downloadUrl, else a short reason."""
    if status != 200:
        try:
            return f"{status} {json.loads(body).get('__type', '')}"
        except ValueError:
            return str(status)
    try:
        ok = bool(json.loads(body).get("downloadUrl"))
    except ValueError:
        ok = False
    return "" if ok else "200 without downloadUrl"


async def raw_worker(
    target: Target, pool: list[Signed], cursor: list[int], deadline: float, results: Results
) -> None:
    """Send pre-rendered requests over one keep-alive connection until time or pool runs out."""
    parts = urlsplit(target.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < deadline and cursor[0] < len(pool):
            signed = pool[cursor[0]]
            cursor[0] += 1
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                writer.write(signed.raw)
                head = await reader.readuntil(b"\r\n\r\n")
                status, length, close = parse_head(head)
                body = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                results.record(started, False, type(exc).__name__)
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            why = check(status, body)
            results.record(started, not why, why)
            if close and writer is not None:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, Content-Length and whether the server will close, from a response head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length: int | None = None
    close = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
    if length is None:
        raise ValueError("response without Content-Length")
    return status, length, close


async def aiohttp_worker(
    session: aiohttp.ClientSession,
    target: Target,
    pool: list[Signed],
    cursor: list[int],
    deadline: float,
    results: Results,
) -> None:
    """Send signed requests through aiohttp's client until time or pool runs out."""
    url = target.url.rstrip("/") + "/"
    while time.perf_counter() < deadline and cursor[0] < len(pool):
        signed = pool[cursor[0]]
        cursor[0] += 1
        started = time.perf_counter()
        try:
            async with session.post(url, data=signed.body, headers=signed.headers) as response:
                body = await response.read()
        except aiohttp.ClientError as exc:
            results.record(started, False, type(exc).__name__)
            continue
        why = check(response.status, body)
        results.record(started, not why, why)


async def fire(
    target: Target,
    pool: list[Signed],
    concurrency: int,
    warmup: float,
    duration: float,
    client: str,
) -> tuple[Results, float]:
    """Run the workers for warm-up plus duration; return results and the measured seconds."""
    start = time.perf_counter()
    results = Results(measure_from=start + warmup)
    deadline = start + warmup + duration
    cursor = [0]
    if client == "raw":
        workers = [raw_worker(target, pool, cursor, deadline, results) for _ in range(concurrency)]
        await asyncio.gather(*workers)
    else:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(
            connector=connector, skip_auto_headers=["User-Agent"]
        ) as s:
            await asyncio.gather(
                *(
                    aiohttp_worker(s, target, pool, cursor, deadline, results)
                    for _ in range(concurrency)
                )
            )
    elapsed = time.perf_counter() - results.measure_from
    return results, elapsed


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def prepare_image(target: Target) -> list[str]:
    """Push one image with a few layers into the bench repository; return layer+config digests."""
    import boto3
    from botocore.config import Config

    ecr = boto3.client(
        "ecr",
        endpoint_url=target.url,
        region_name=target.region,
        aws_access_key_id=target.access_key_id,
        aws_secret_access_key=target.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=REPOSITORY)
    layers = [os.urandom(size) for size in (4096, 64 * 1024, 1024 * 1024)]
    image = push_image(ecr, REPOSITORY, layers, tag=None)
    digests = [*image.layer_digests, image.config_digest]
    answer = ecr.get_download_url_for_layer(repositoryName=REPOSITORY, layerDigest=digests[0])
    assert answer["downloadUrl"], answer
    return digests


def run(args: argparse.Namespace, target: Target, pid: int | None) -> None:
    """Prepare, sign, fire, and print the table."""
    digests = prepare_image(target)
    pool_size = args.pool or int((args.warmup + args.duration) * POOL_RATE)
    print(f"signing {pool_size} requests ...", flush=True)
    pool, sign_cost = sign_pool(target, digests, pool_size)
    print(f"firing at concurrency {args.concurrency} ({args.client} client) ...", flush=True)
    client_cpu = time.process_time()
    server_cpu = cpu_seconds(pid) if pid else 0.0
    results, elapsed = asyncio.run(
        fire(target, pool, args.concurrency, args.warmup, args.duration, args.client)
    )
    # CPU is read over warm-up plus run: the share, not the exact seconds, is what matters.
    wall = elapsed + args.warmup
    client_cpu = time.process_time() - client_cpu
    ordered = sorted(results.latencies)
    ms = [f"{percentile(ordered, q) * 1000:.2f} ms" for q in (0.5, 0.9, 0.99, 1.0)]
    rows = [
        ("requests", f"{len(ordered)} ok in {elapsed:.1f} s (+{results.warmup_requests} warm-up)"),
        ("errors", str(sum(results.errors.values()))),
        ("req/s", f"{len(ordered) / elapsed:.0f}"),
        ("p50", ms[0]),
        ("p90", ms[1]),
        ("p99", ms[2]),
        ("max", ms[3]),
        ("signing", f"{sign_cost * 1e6:.0f} us/request (before the run, not timed)"),
        ("client CPU", f"{client_cpu / wall:.0%} of one core"),
    ]
    if pid:
        memory = memory_kib(pid)
        rows += [
            ("server CPU", f"{(cpu_seconds(pid) - server_cpu) / wall:.0%} of one core"),
            ("server RSS", f"{memory['VmRSS'] * 1024 / MIB:.1f} MiB after the run"),
            ("server peak", f"{memory['VmHWM'] * 1024 / MIB:.1f} MiB (VmHWM)"),
        ]
    sent = len(ordered) + results.warmup_requests + sum(results.errors.values())
    if sent >= len(pool):
        rows.append(("note", "the signed pool ran out before --duration; raise --pool"))
    for why, count in results.errors.most_common(5):
        rows.append(("error", f"{count} x {why}"))
    print_table(f"GetDownloadUrlForLayer, concurrency {args.concurrency}", rows)


def main() -> None:
    """Parse options; start a fresh server unless --url names one."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--concurrency", type=int, default=32, help="connections in flight")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument(
        "--pool", type=int, default=0, help=f"signed requests (default {POOL_RATE}/s of run)"
    )
    parser.add_argument("--client", choices=["raw", "aiohttp"], default="raw")
    parser.add_argument(
        "--url", help="an already running server (127.0.0.1) instead of a fresh one"
    )
    parser.add_argument("--server-pid", type=int, help="with --url: its pid, for RSS and CPU")
    parser.add_argument(
        "--access-key-id", default=os.environ.get("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    )
    parser.add_argument(
        "--secret-access-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    )
    parser.add_argument("--region", default=REGION)
    args = parser.parse_args()
    if args.url:
        if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
            parser.error("--url must point at 127.0.0.1: this load is for a local server")
        target = Target(args.url, args.access_key_id, args.secret_access_key, args.region)
        run(args, target, args.server_pid)
        return
    with fresh_server("layerport-bench-") as server:
        target = Target(server.url, server.access_key_id, server.secret_access_key, server.region)
        assert server.process is not None
        run(args, target, server.process.pid)


if __name__ == "__main__":
    main()
