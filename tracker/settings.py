"""Settings, built once from the environment (and .env) in main(); every key is documented in
.env.example. The token is a Secret whose repr never shows it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from tracker.limits import Limits

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"


def is_postgres_url(target: str) -> bool:
    """Whether a SLIPWATCH_DB value names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class SettingsError(ValueError):
    """A setting has a value that cannot work; the message names it and says what to use."""


class Secret:
    """A string that never shows itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """The secret itself, for the one place that needs it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one slipwatch process."""

    token: Secret = field(default_factory=lambda: Secret(""))
    db_path: str = "slipwatch.db"
    api_base: str = DEFAULT_API_BASE
    gateway_url: str = DEFAULT_GATEWAY_URL
    sync_guild_id: int | None = None
    log_level: str = "INFO"
    delivery_concurrency: int = 16
    outbox_max_age: dt.timedelta = dt.timedelta(hours=48)
    probe_allow: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    sql_debug: bool = False
    # The public boards' web server: (host, port) to listen on, None when off.
    web: tuple[str, int] | None = None
    web_url: str | None = None  # the address readers use, when not http://host:port
    # Reverse proxies (addresses or networks) whose X-Forwarded-For the board believes.
    web_trusted_proxies: tuple[str, ...] = ()
    # Gateway shards this process runs (None: one connection, no sharding) out of shard_count.
    shard_ids: tuple[int, ...] | None = None
    shard_count: int | None = None

    @property
    def on_postgres(self) -> bool:
        """Whether the database is PostgreSQL (several processes may share it)."""
        return is_postgres_url(self.db_path)

    def with_shards(self, spec: str | None, count: int | None) -> Settings:
        """These settings with the shards of ``--shards SPEC --shard-count N`` (SPEC like
        "0-3" or "0,2,5-7"); SettingsError when they cannot work."""
        if spec is None and count is None:
            return self
        if spec is None or count is None:
            raise SettingsError(
                "--shards and --shard-count go together, e.g. --shards 0-3 --shard-count 8."
            )
        if count < 1:
            raise SettingsError(f"--shard-count must be at least 1, not {count}.")
        ids = parse_shards(spec, count)
        if len(ids) < count and not self.on_postgres:
            raise SettingsError(
                "Running some of the shards needs a database the other processes share: set "
                "SLIPWATCH_DB=postgresql://... (with SQLite, run all shards in one process)."
            )
        return dataclasses.replace(self, shard_ids=ids, shard_count=count)

    @property
    def db_location(self) -> str:
        """The database for messages: the SQLite file, or the PostgreSQL URL without its
        password."""
        return redact(self.db_path)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read settings from *env* (os.environ after load_dotenv); SettingsError on bad values."""
        # Only reading the environment checks the probes' allow list and key hosts: their
        # parsers come with the probes' network guard (httpx), which a Settings built in code
        # (tests, benches) does not need before its first probe.
        from tracker.probes.netguard import AllowList, KeyHosts

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        api_base = get("DISCORD_API_BASE", DEFAULT_API_BASE).rstrip("/")
        _require_url("DISCORD_API_BASE", api_base, ("http", "https"))
        gateway = get("DISCORD_GATEWAY_URL", DEFAULT_GATEWAY_URL)
        _require_url("DISCORD_GATEWAY_URL", gateway, ("ws", "wss"))
        sync = get("SYNC_GUILD_ID")
        if sync and not sync.isdigit():
            raise SettingsError(f"SYNC_GUILD_ID must be a server id (digits), not {sync!r}.")
        level = get("LOG_LEVEL", "INFO").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
        concurrency = _int(get("DELIVERY_CONCURRENCY", "16"), "DELIVERY_CONCURRENCY", 1, 256)
        max_age = _int(get("OUTBOX_MAX_AGE_HOURS", "48"), "OUTBOX_MAX_AGE_HOURS", 1, 24 * 30)
        allow = tuple(p.strip() for p in get("SLIPWATCH_PROBE_ALLOW").split(",") if p.strip())
        try:
            AllowList.parse(allow)
            KeyHosts.from_environ(env)
        except ValueError as exc:
            raise SettingsError(str(exc)) from exc
        db_path = get("SLIPWATCH_DB", "slipwatch.db") or "slipwatch.db"
        limits = Limits(
            launches_per_guild=_int(
                get("SLIPWATCH_MAX_LAUNCHES", "2000"), "SLIPWATCH_MAX_LAUNCHES", 1, 1_000_000
            ),
            probes_per_guild=_int(
                get("SLIPWATCH_MAX_PROBES", "25"), "SLIPWATCH_MAX_PROBES", 0, 10_000
            ),
            proposals_per_poll=_int(
                get("SLIPWATCH_MAX_PROPOSALS_PER_POLL", "5"),
                "SLIPWATCH_MAX_PROPOSALS_PER_POLL",
                1,
                25,
            ),
            imports_per_hour=_int(
                get("SLIPWATCH_MAX_IMPORTS_PER_HOUR", "10"),
                "SLIPWATCH_MAX_IMPORTS_PER_HOUR",
                1,
                1000,
            ),
        )
        web = parse_host_port(get("SLIPWATCH_WEB")) if get("SLIPWATCH_WEB") else None
        web_url = get("SLIPWATCH_WEB_URL").rstrip("/") or None
        if web_url is not None:
            _require_url("SLIPWATCH_WEB_URL", web_url, ("http", "https"))
        proxies = _networks("SLIPWATCH_WEB_TRUSTED_PROXIES", get("SLIPWATCH_WEB_TRUSTED_PROXIES"))
        return cls(
            token=Secret(get("DISCORD_TOKEN")),
            db_path=db_path,
            api_base=api_base,
            gateway_url=gateway,
            sync_guild_id=int(sync) if sync else None,
            log_level=level,
            delivery_concurrency=concurrency,
            outbox_max_age=dt.timedelta(hours=max_age),
            probe_allow=allow,
            limits=limits,
            sql_debug=get("SLIPWATCH_SQL_DEBUG").lower() in ("1", "true", "yes", "on"),
            web=web,
            web_url=web_url,
            web_trusted_proxies=proxies,
        )


def parse_host_port(text: str, name: str = "SLIPWATCH_WEB") -> tuple[str, int]:
    """Read "host:port" (an IPv6 host in brackets: "[::1]:8080"); SettingsError otherwise."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(f"{name} must be host:port, like 127.0.0.1:8080, not {text!r}.")
    return host, int(port)


def parse_shards(spec: str, count: int) -> tuple[int, ...]:
    """Shard ids from "0-3", "5" or "0,2,5-7", each below *count*, sorted, without repeats."""
    ids: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise SettingsError(f"--shards takes shard ids like 0-3 or 0,2,5-7, not {spec!r}.")
        first, last = int(low), int(high) if dash else int(low)
        if first > last:
            raise SettingsError(f"--shards range {part} runs backwards; write {last}-{first}.")
        if last >= count:
            raise SettingsError(
                f"--shards {spec}: shard ids run from 0 to {count - 1} with --shard-count {count}."
            )
        ids.update(range(first, last + 1))
    return tuple(sorted(ids))


def _int(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, not {text!r}.")
    return int(text)


def _networks(name: str, text: str) -> tuple[str, ...]:
    networks = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(
                f"{name} lists addresses or networks, like 127.0.0.1, 10.0.0.0/8 or ::1, "
                f"not {part!r}."
            ) from None
    return tuple(networks)


def _require_url(name: str, value: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise SettingsError(
            f"{name} must be a {' or '.join(s + '://' for s in schemes)} address, not {value!r}."
        )
