"""Where each API key may be sent: ``SLIPWATCH_KEY_<NAME>`` goes only to the hosts it belongs
to, built in for the known providers (``SLIPWATCH_KEY_OPENAI`` to api.openai.com, ...) and
listed by the operator in ``SLIPWATCH_KEY_<NAME>_HOSTS`` for any other key (which also replaces
a built-in list)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from tracker.probes.netguard.addresses import BlockedTarget, parse_ip, split_url

KEY_PREFIX = "SLIPWATCH_KEY_"
HOSTS_SUFFIX = "_HOSTS"
# Where the known providers' keys go (``SLIPWATCH_KEY_<NAME>`` -> hosts, https port 443).
BUILTIN_KEY_HOSTS: Mapping[str, tuple[str, ...]] = {
    "OPENAI": ("api.openai.com",),
    "XAI": ("api.x.ai",),
    "ANTHROPIC": ("api.anthropic.com",),
    "MISTRAL": ("api.mistral.ai",),
    "GITHUB": ("api.github.com",),
    "GROQ": ("api.groq.com",),
    "DEEPSEEK": ("api.deepseek.com",),
    "TOGETHER": ("api.together.xyz",),
    "FIREWORKS": ("api.fireworks.ai",),
    "OPENROUTER": ("openrouter.ai",),
    "PERPLEXITY": ("api.perplexity.ai",),
    "CEREBRAS": ("api.cerebras.ai",),
    "GEMINI": ("generativelanguage.googleapis.com",),
    "GOOGLE": ("generativelanguage.googleapis.com",),
    "HUGGINGFACE": ("huggingface.co",),
    "HF": ("huggingface.co",),
}


def _host_entry(variable: str, raw: str) -> tuple[str, int]:
    entry = raw.strip().lower()
    bad = ValueError(
        f"{variable}: {raw.strip()!r} is not a host name or host:port "
        "(api.example.com, api.example.com:8443, 127.0.0.1:8080)."
    )
    host, port = entry, 443
    if entry.startswith("["):
        inside, sep, rest = entry[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise bad
        host, port_text = inside, rest[1:]
        if rest:
            if not port_text.isdigit():
                raise bad
            port = int(port_text)
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
        if not port_text.isdigit():
            raise bad
        port = int(port_text)
    ip = parse_ip(host)
    if ip is not None:
        host = ip.compressed
    elif not host or "/" in host or "@" in host or " " in host or ":" in host:
        raise bad
    if not 0 < port < 65536:
        raise bad
    return host.rstrip("."), port


@dataclass(frozen=True, slots=True)
class KeyHosts:
    """The hosts each ``SLIPWATCH_KEY_<NAME>`` may be sent to: built in for the known providers,
    replaced or added by the operator with ``SLIPWATCH_KEY_<NAME>_HOSTS`` (comma-separated
    ``host`` for https on port 443, or ``host:port``)."""

    hosts: Mapping[str, frozenset[tuple[str, int]]]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> KeyHosts:
        """Read the built-in table and every ``SLIPWATCH_KEY_*_HOSTS`` variable; ValueError
        names a malformed one."""
        table: dict[str, frozenset[tuple[str, int]]] = {
            name: frozenset((host, 443) for host in hosts)
            for name, hosts in BUILTIN_KEY_HOSTS.items()
        }
        for variable, value in environ.items():
            if not (variable.startswith(KEY_PREFIX) and variable.endswith(HOSTS_SUFFIX)):
                continue
            name = variable[len(KEY_PREFIX) : -len(HOSTS_SUFFIX)]
            if not name:
                continue
            entries = [e for e in value.split(",") if e.strip()]
            table[name] = frozenset(_host_entry(variable, e) for e in entries)
        return cls(table)

    @staticmethod
    def key_name(env_name: str) -> str:
        """``SLIPWATCH_KEY_OPENAI`` -> ``OPENAI``."""
        return env_name.removeprefix(KEY_PREFIX)

    def allows(self, env_name: str, host: str, port: int) -> bool:
        """Whether the key in *env_name* may be sent to *host* on *port*."""
        allowed = self.hosts.get(self.key_name(env_name), frozenset())
        ip = parse_ip(host)
        name = ip.compressed if ip is not None else host.lower().rstrip(".")
        return (name, port) in allowed

    def shown(self, env_name: str) -> str:
        """The hosts of *env_name*, for a person ("api.openai.com"), or "" when there are none."""
        allowed = sorted(self.hosts.get(self.key_name(env_name), frozenset()))
        return ", ".join(
            host if port == 443 else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
            for host, port in allowed
        )

    def refusal(self, env_name: str, url: str | httpx.URL) -> str | None:
        """Why the key in *env_name* may not be sent to *url* (a sentence for a person), or
        None when it may."""
        try:
            _scheme, host, port = split_url(url)
        except BlockedTarget as exc:
            return str(exc)
        if self.allows(env_name, host, port):
            return None
        variable = env_name + HOSTS_SUFFIX
        shown_host = host if port == 443 else f"{host}:{port}"
        listed = self.shown(env_name)
        if not listed:
            return (
                f"{env_name} is not bound to any host yet, so no probe can send it. The bot's "
                f"operator lists the hosts it belongs to in {variable} (for example "
                f"{variable}=api.example.com)."
            )
        return (
            f"{env_name} may only be sent to {listed}, and this probe's address is "
            f"{shown_host}. Point the probe at {listed}, or ask the bot's operator to add "
            f"{shown_host} to {variable}."
        )
