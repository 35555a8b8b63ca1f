"""The probes' one HTTP client: guarded addresses, explicit limits, polite pacing.

- Every request and every redirect hop goes through ``GuardedTransport`` (public addresses only,
  connect to the address that was checked). Redirects are followed here, at most three, so each
  hop is checked; an API key never follows a redirect to another origin, and is only ever sent
  to a host it is bound to (``KeyHosts``: checked when the fetch starts and again, in the
  transport, on every request).
- Timeouts: 5 s to connect, 20 s for a whole fetch (all hops and the body), enforced with
  ``asyncio.timeout`` so that a server trickling bytes cannot hold a probe forever.
- Bodies are streamed and capped at 2 MB; the rest is never read. Compressed bodies are asked
  not to be sent (``Accept-Encoding: identity``) and are inflated with the same cap otherwise.
- Conditional requests (If-None-Match / If-Modified-Since): a 304 costs no body and no parsing.
- At most ``concurrency`` requests at once, at most ``per_owner`` of them for one server
  (``FairSlots``: one server's slow sources cannot hold every connection), and one request per
  ``per_host_interval_s`` to the same host. No cookies are ever stored; no proxy or other
  setting is taken from the environment; the User-Agent names the project.

Modules: records (settings, answers, errors), pacing (fair slots and per-host turns), client
(the Fetcher).
"""

from tracker.probes.fetch.client import CHUNK, REDIRECTS, Fetcher
from tracker.probes.fetch.pacing import Turns
from tracker.probes.fetch.records import (
    MAX_RETRY_AFTER_S,
    USER_AGENT,
    ApiKey,
    Fetched,
    FetchError,
    FetchSettings,
    FetchStats,
    parse_retry_after,
)

__all__ = [
    "CHUNK",
    "MAX_RETRY_AFTER_S",
    "REDIRECTS",
    "USER_AGENT",
    "ApiKey",
    "FetchError",
    "FetchSettings",
    "FetchStats",
    "Fetched",
    "Fetcher",
    "Turns",
    "parse_retry_after",
]
