"""Per-key token buckets: requests per minute and generated tokens per minute.

A bucket holds up to a minute's allowance and refills continuously, so a key may burst up
to its limit and then runs at the limit's pace. Generated tokens are charged before a
generation starts: the request's reply cap is reserved (at most what the bucket holds: the
reply is then capped to it), and what the answer did not use is refunded afterwards, so
concurrent answers of one key never generate more than its allowance. The table of keys is
bounded: the least recently seen key is forgotten first (it comes back with a full bucket,
the same as a key that has been idle for a minute).
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
        if not self.requests_per_minute:
            return
        with self._lock:
            bucket = self._bucket(key, "requests", self.requests_per_minute)
            wait = bucket.wait_for(1.0, self.requests_per_minute)
            if wait > 0:
                raise RateLimited("requests", wait)
            bucket.level -= 1.0

    def reserve_tokens(self, key: str, wanted: int) -> int:
        """Take up to ``wanted`` generated tokens of ``key``'s allowance now and return how
        many were taken (the reply's cap); ``RateLimited`` while not one whole token is left.
        Without a token limit, ``wanted`` as it is."""
        if not self.tokens_per_minute:
            return wanted
        with self._lock:
            bucket = self._bucket(key, "generated tokens", self.tokens_per_minute)
            granted = min(wanted, math.floor(bucket.level))
            if granted < 1:
                raise RateLimited("generated tokens", bucket.wait_for(1.0, self.tokens_per_minute))
            bucket.level -= granted
            return granted

    def refund_tokens(self, key: str, tokens: int) -> None:
        """Give back reserved tokens an answer did not use."""
        if not self.tokens_per_minute or tokens <= 0:
            return
        with self._lock:
            bucket = self._bucket(key, "generated tokens", self.tokens_per_minute)
            bucket.level = min(self.tokens_per_minute, bucket.level + tokens)

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
