"""Where a probe may connect: public addresses only, unless the operator allowed one.

A probe's address is typed by a server manager, so without this check the bot would fetch
whatever they point it at: the cloud metadata service, a database on the bot's own machine, a
router on its private network. Every address is checked when a probe is created and again at
every request and every redirect hop, and the connection is made to the very address that was
checked (never a second DNS answer), so a name that answers differently between check and
connect gains nothing. The operator can trust specific addresses with SLIPWATCH_PROBE_ALLOW:
comma-separated ``host:port`` pairs (``127.0.0.1:8080``, ``[::1]:8080``, ``mirror.lan:443``) or
CIDR ranges (``10.20.0.0/16``, any port).

API keys are bound to hosts (:class:`KeyHosts`): a key in ``SLIPWATCH_KEY_<NAME>`` is sent only
to the hosts it belongs to, built in for the known providers (``SLIPWATCH_KEY_OPENAI`` to
api.openai.com, ...) and listed by the operator in ``SLIPWATCH_KEY_<NAME>_HOSTS`` for any other
key (which also replaces a built-in list). Name resolution runs on its own small thread pool, so
that lookups never queue behind other work on the event loop's default executor.

Modules: addresses (URL syntax, the public-only rule, the allow list), guard (resolution and the
check), keyhosts (where keys may go), transport (the httpx transport that applies them).
"""

from tracker.probes.netguard.addresses import (
    DEFAULT_PORTS,
    MAX_URL,
    METADATA,
    AllowList,
    BlockedTarget,
    IPAddress,
    IPNetwork,
    UnresolvedHost,
    parse_ip,
    refusal,
    split_url,
)
from tracker.probes.netguard.guard import (
    DNS_TIMEOUT_S,
    Checked,
    NetGuard,
    Resolver,
    system_resolver,
)
from tracker.probes.netguard.keyhosts import BUILTIN_KEY_HOSTS, HOSTS_SUFFIX, KEY_PREFIX, KeyHosts
from tracker.probes.netguard.transport import GuardedTransport

__all__ = [
    "BUILTIN_KEY_HOSTS",
    "DEFAULT_PORTS",
    "DNS_TIMEOUT_S",
    "HOSTS_SUFFIX",
    "KEY_PREFIX",
    "MAX_URL",
    "METADATA",
    "AllowList",
    "BlockedTarget",
    "Checked",
    "GuardedTransport",
    "IPAddress",
    "IPNetwork",
    "KeyHosts",
    "NetGuard",
    "Resolver",
    "UnresolvedHost",
    "parse_ip",
    "refusal",
    "split_url",
    "system_resolver",
]
