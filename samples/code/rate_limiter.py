"""A token-bucket rate limiter.

A bucket holds up to ``capacity`` tokens and refills at ``rate`` tokens per second. Each
request takes one token; when the bucket is empty the request is refused (or waits).
"""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """Allows bursts of up to ``capacity`` requests and ``rate`` requests per second after."""

    def __init__(self, rate: float, capacity: int) -> None:
        if rate <= 0 or capacity <= 0:
            raise ValueError("rate and capacity must be positive")
        self.rate = rate
        self.capacity = capacity
        self._tokens = float(capacity)
        self._updated = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        elapsed = now - self._updated
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    def try_acquire(self, tokens: int = 1) -> bool:
        """Take tokens if available; never blocks."""
        with self._lock:
            self._refill()
            if self._tokens >= tokens:
                self._tokens -= tokens
                return True
            return False

    def acquire(self, tokens: int = 1, timeout: float | None = None) -> bool:
        """Wait until the tokens are available or the timeout passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.try_acquire(tokens):
                return True
            with self._lock:
                wait = (tokens - self._tokens) / self.rate
            if deadline is not None and time.monotonic() + wait > deadline:
                return False
            time.sleep(wait)


def per_client_limiters(rate: float, capacity: int) -> dict[str, TokenBucket]:
    """One bucket per client id, created on first use."""

    class _Buckets(dict):
        def __missing__(self, client_id: str) -> TokenBucket:
            bucket = TokenBucket(rate, capacity)
            self[client_id] = bucket
            return bucket

    return _Buckets()
