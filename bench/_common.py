"""What both benchmarks share: a fresh server, /proc memory and CPU readings, a table.

The server is started with the test suite's ``Server`` helper so a benchmark
runs exactly what the integration tests run: a ``layerport serve`` child on
127.0.0.1, SQLite plus a filesystem store in a throw-away data directory.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests/ is not installed; its helpers live beside us

from tests.support import (  # noqa: E402  # importable only once ROOT is on sys.path
    ACCESS_KEY_ID,
    REGION,
    SECRET_ACCESS_KEY,
    PushedImage,
    Server,
    free_port,
    push_image,
    sha256,
)

__all__ = [
    "ACCESS_KEY_ID",
    "MIB",
    "REGION",
    "SECRET_ACCESS_KEY",
    "PushedImage",
    "Server",
    "cpu_seconds",
    "exit_on_sigterm",
    "free_port",
    "fresh_server",
    "memory_kib",
    "print_columns",
    "print_table",
    "push_image",
    "reset_peak",
    "sha256",
]

MIB = 1024 * 1024


@contextmanager
def fresh_server(prefix: str) -> Iterator[Server]:
    """A running server on a new temp data dir; both are gone when the block ends."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        server = Server(Path(tmp) / "data").start()
        try:
            yield server
        finally:
            server.stop()


def memory_kib(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` (peak RSS) of ``pid`` in KiB, from /proc/<pid>/status."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    """Reset ``VmHWM`` to the current RSS (``5`` to clear_refs), so a phase has its own peak.

    Allowed for our own child; returns False where the kernel refuses it.
    """
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time ``pid`` has used, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name may hold spaces; the fields after its closing ")" do not.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    """Print ``rows`` as an aligned two-column table under ``title``."""
    width = max(len(name) for name, _ in rows)
    print(f"\n{title}")
    print("-" * len(title))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def print_columns(title: str, header: list[str], rows: list[list[str]]) -> None:
    """Print ``rows`` under ``header`` as aligned columns: the first left, the rest right."""
    table = [header, *rows]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        return "  ".join(cells).rstrip()

    print(f"\n{title}")
    print(line(header))
    print("-" * len(line(header)))
    for row in rows:
        print(line(row))


def exit_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so ``finally`` blocks stop servers and remove temp dirs."""

    def leave(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)
