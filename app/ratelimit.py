"""Per-key token buckets: requests per minute and generated tokens per minute.

A bucket holds up to a minute's allowance and refills continuously, so a key may burst up
to its limit and then runs at the limit's pace. Generated tokens are only known after an
answer, so they are spent afterwards (a bucket may go below zero) and the next request of
that key waits until the bucket is positive again. The table of keys is bounded: the least
recently seen key is forgotten first (it comes back with a full bucket, the same as a key
that has been idle for a minute).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_KEYS = 10_000


class RateLimited(Exception):
    def __init__(self, what: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"rate limit reached for {what}: retry in {self.retry_after} s")


@dataclass
class _Bucket:
    level: float
    updated: float

    def refill(self, per_minute: int, now: float) -> None:
        self.level = min(per_minute, self.level + (now - self.updated) * per_minute / 60.0)
        self.updated = now

    def wait_for(self, amount: float, per_minute: int) -> float:
        """Seconds until the bucket holds ``amount`` (0: it does now)."""
        missing = amount - self.level
        return 0.0 if missing <= 0 else missing * 60.0 / per_minute


class RateLimits:
    def __init__(self, requests_per_minute: int, tokens_per_minute: int) -> None:
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._lock = threading.Lock()
        self._buckets: OrderedDict[tuple[str, str], _Bucket] = OrderedDict()

    def take_request(self, key: str) -> None:
        """Spend one request of ``key``'s allowance, or raise ``RateLimited``."""
        if self.requests_per_minute:
            self._take(key, "requests", self.requests_per_minute, 1.0, spend=True)

    def check_tokens(self, key: str) -> None:
        """Raise ``RateLimited`` while ``key`` has no generated tokens left this minute."""
        if self.tokens_per_minute:
            self._take(key, "generated tokens", self.tokens_per_minute, 1e-9, spend=False)

    def spend_tokens(self, key: str, tokens: int) -> None:
        if not self.tokens_per_minute or tokens <= 0:
            return
        with self._lock:
            bucket = self._bucket(key, "generated tokens", self.tokens_per_minute)
            bucket.level -= tokens

    def _take(self, key: str, what: str, per_minute: int, amount: float, spend: bool) -> None:
        with self._lock:
            bucket = self._bucket(key, what, per_minute)
            wait = bucket.wait_for(amount, per_minute)
            if wait > 0:
                raise RateLimited(what, wait)
            if spend:
                bucket.level -= amount

    def _bucket(self, key: str, what: str, per_minute: int) -> _Bucket:
        now = time.monotonic()
        bucket = self._buckets.get((key, what))
        if bucket is None:
            bucket = self._buckets[(key, what)] = _Bucket(float(per_minute), now)
            while len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end((key, what))
            bucket.refill(per_minute, now)
        return bucket
