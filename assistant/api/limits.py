"""Per-client rate limits: a token bucket per client, in memory, per process.

A client is its API key when it sends one that is configured, else its address: an invented key
must not buy a fresh allowance. Behind a proxy every caller has the proxy's address, so they
share one allowance; X-Forwarded-For is not trusted, since any caller can set it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import Request

from assistant.api.keys import is_valid_key
from index.errors import RateLimited
from index.settings import Settings

MAX_TRACKED_CLIENTS = 10_000  # past this, clients idle long enough to be full again are dropped


class RateLimiter:
    """`per_minute` requests a minute per client, up to a minute's worth at once; 0: no limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one request of `client`'s allowance: 0.0, or the seconds until it has one."""
        if self.per_minute <= 0:
            return 0.0
        per_second = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            tokens, counted = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - counted) * per_second)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget_idle(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / per_second

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) <= MAX_TRACKED_CLIENTS:
            return
        refill = 60.0  # a client idle this long has a full allowance: the same as a new one
        self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < refill}


class RateLimits:
    """The app's limiters, one per kind of request, sized by settings."""

    def __init__(self, settings: Settings):
        self.feedback = RateLimiter(settings.feedback_rate)
        self.writes = RateLimiter(settings.write_rate)


def limit_feedback(request: Request) -> None:
    _spend(request, request.app.state.limits.feedback)


def limit_writes(request: Request) -> None:
    _spend(request, request.app.state.limits.writes)


def _spend(request: Request, limiter: RateLimiter) -> None:
    wait = limiter.take(_client_of(request))
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(
            f"more than {limiter.per_minute} requests a minute from this client; "
            f"retry in {seconds} s",
            retry_after=seconds,
        )


def _client_of(request: Request) -> str:
    key = request.headers.get("x-api-key")
    if key and is_valid_key(key, request.app.state.settings.key_list()):
        return f"key:{key}"
    return f"address:{request.client.host if request.client else 'unknown'}"
