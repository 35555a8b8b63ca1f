"""What a fetch is given and gives back: the client's limits, how to send a key, the answer, the
error, the counters, and the Retry-After reading."""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass

USER_AGENT = "slipwatch/0.1 (+https://github.com/slipwatch)"
MAX_RETRY_AFTER_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Limits of the probes' HTTP client."""

    connect_timeout_s: float = 5.0
    total_timeout_s: float = 20.0
    max_body_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    concurrency: int = 8
    per_owner: int = 2  # requests one server may have in flight at once
    # At most one request per this many seconds to the same host name. 0 turns pacing off
    # (the benchmark does, to measure 1,000 probes against one loopback server).
    per_host_interval_s: float = 1.0
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class ApiKey:
    """How to send a key read from the environment at request time (never stored)."""

    env_name: str
    header: str = "Authorization"
    prefix: str = "Bearer "


@dataclass(frozen=True, slots=True)
class Fetched:
    """A final answer (after redirects). ``body`` is empty unless the status is 2xx."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    retry_after_s: float | None
    bytes_read: int

    @property
    def not_modified(self) -> bool:
        """The server said 304: nothing changed since the validators we sent."""
        return self.status == 304

    @property
    def ok(self) -> bool:
        """A 2xx answer with a body."""
        return 200 <= self.status < 300


class FetchError(Exception):
    """A fetch that produced no usable answer; ``str(error)`` is short and holds no secret."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        bytes_read: int = 0,
    ) -> None:
        super().__init__(message)
        self.kind = kind  # blocked, timeout, too_large, network, redirects, config, http, ...
        self.status = status
        self.retry_after_s = retry_after_s
        self.bytes_read = bytes_read


@dataclass
class FetchStats:
    """Counters for tests and the benchmark."""

    requests: int = 0
    not_modified: int = 0
    bytes_read: int = 0


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": the date is in UTC by RFC 5322
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER_S)
