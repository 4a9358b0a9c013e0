"""Per-access-key request rate limiting: a token bucket per key, in this process.

Each replica limits on its own (the bound is per replica); a request over the
limit gets ThrottlingException on the ECR face and 429 with Retry-After on the
registry face, which is what AWS SDKs and registry clients back off on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Allow ``rate`` requests a second per key, with bursts up to ``burst``.

    rate: sustained requests per second per key; 0 turns limiting off.
    burst: how many requests a key may send at once after being idle.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._buckets: dict[str, _Bucket] = {}

    def wait_time(self, key: str, now: float | None = None) -> float:
        """0 when the request may go ahead (and counts it); else seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 100_000:  # bound memory whatever keys are presented
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate
