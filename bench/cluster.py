"""Cluster benchmark: three real `python bot.py` processes (one shard each) on PostgreSQL against
the loopback Discord, 3,000 servers, one launch slipping to 2,000 DM subscribers, and the elected
deliverer killed (SIGKILL) half-way through the fan-out.

    python bench/cluster.py [--quick]      (--quick: 300 servers, 200 subscribers)

Needs a PostgreSQL server (SLIPWATCH_BENCH_PG, default the local one); makes its own database and
drops it afterwards. Prints one final JSON line:

- efficiency: (requests the server accepted / 50) / seconds from the command to the last message,
  failover included (1.0 = Discord's global limit used all the time);
- lost / duplicated: subscribers without their DM / DMs beyond one per subscriber;
- failover_s: from the kill to the next message the server accepted (from the new deliverer);
- cross_process_rearm_ms: a /launch add answered by a shard process that is not the deliverer,
  from the reply to its alert in the channel (sent by the deliverer in another process);
- rejected_429: requests the loopback Discord refused for the global limit (all processes count
  together); route_429: per-route refusals (discord.py waits those out by design);
- rate_before_kill / rate_after_failover: accepted messages per second in each phase (the
  deliverer of a cluster may use 48 of the 50 and holds each request's share for a second after
  its response; on a busy machine its CPU share decides how close it gets).

SLIPWATCH_BENCH_TRACE=FILE writes every request of the run there (time from the kill, the process
that sent it, route, status) and prints each global 429 with the second before it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from storage import bulk  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.session import SqlStore  # noqa: E402
from tests.loopback import LoopbackDiscord  # noqa: E402
from tests.loopback.gateway import shard_of  # noqa: E402
from tracker.clock import SystemClock  # noqa: E402
from tracker.launches import Tracker  # noqa: E402

GLOBAL_LIMIT = 50.0
PROCESSES = 3
ADMIN_URL = os.environ.get("SLIPWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _url_for(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def _deliverer_pid(url: str) -> int | None:
    """The OS pid of the process holding the deliverer's lock (its application_name)."""
    from storage.postgres.cluster import DELIVERER_LOCK_KEY

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s "
            # Advisory locks are per database: other runs on this server elect in theirs.
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (DELIVERER_LOCK_KEY,),
        ).fetchone()
    if row is None:
        return None
    return int(str(row[0]).split(":")[1])


async def _wait(check: Any, limit_s: float, what: str, every_s: float = 0.05) -> Any:
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        await asyncio.sleep(every_s)
    raise TimeoutError(f"timed out waiting for {what}")


async def run(guild_count: int, recipients: int) -> dict[str, Any]:
    name = "slipwatch_bench_" + secrets.token_hex(6)
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _url_for(name)
    server = LoopbackDiscord(
        shard_count=PROCESSES, max_concurrency=1, global_rate_limit=GLOBAL_LIMIT
    )
    await server.start()
    procs: list[asyncio.subprocess.Process] = []
    try:
        with tempfile.TemporaryDirectory(prefix="slipwatch-cluster-") as tmp:
            # SLIPWATCH_BENCH_LOGS=DIR keeps the processes' logs there.
            logs = Path(os.environ.get("SLIPWATCH_BENCH_LOGS", tmp))
            os.makedirs(logs, exist_ok=True)
            return await _measure(server, url, logs, procs, guild_count, recipients)
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await server.stop()
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


async def _measure(
    server: LoopbackDiscord,
    url: str,
    tmp: Path,
    procs: list[asyncio.subprocess.Process],
    guild_count: int,
    recipients: int,
) -> dict[str, Any]:
    # The world: servers spread over the three shards; the fan-out server on shard 0 and one
    # server per shard with an alert channel for the re-arm probe.
    guilds = [server.add_guild(name=f"S{i}", shard=i % PROCESSES) for i in range(guild_count)]
    alerts = {g.id: server.add_channel(g.id, "alerts") for g in guilds[:PROCESSES]}
    fanout = guilds[0]
    users = [server.add_user(f"u{i}", guild_id=fanout.id, permissions=0) for i in range(recipients)]
    manager = fanout.owner_id

    async with open_database(url) as db:
        tracker = Tracker(SqlStore(db), SystemClock())
        for guild in guilds[:PROCESSES]:
            await tracker.configure(
                guild.id, alert_channel_id=alerts[guild.id], reminder_offsets=(), late_milestones=()
            )
        await bulk.subscribe_users(db, fanout.id, users, "xAI", SystemClock().now())

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLIPWATCH_"))},
        "DISCORD_TOKEN": server.token,
        "SLIPWATCH_DB": url,
        "DISCORD_API_BASE": server.api_base,
        "DISCORD_GATEWAY_URL": server.gateway_url,
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    # Commands are registered once, as an operator would (`python bot.py sync`).
    sync = await _spawn(env, tmp, "sync", log=tmp / "sync.log")
    if await sync.wait() != 0:
        raise RuntimeError("bot.py sync failed: " + (tmp / "sync.log").read_text()[-2000:])
    for shard in range(PROCESSES):
        procs.append(
            await _spawn(
                env,
                tmp,
                "--shards",
                str(shard),
                "--shard-count",
                str(PROCESSES),
                log=tmp / f"bot{shard}.log",
            )
        )
    await _wait(
        lambda: len([s for s in server.sessions if s.ready]) == PROCESSES, 120, "3 shards ready"
    )
    pid_of_shard = {shard: proc.pid for shard, proc in enumerate(procs)}
    deliverer = await _wait(lambda: _deliverer_pid(url), 60, "an elected deliverer")
    # (psycopg's blocking calls here are short; the loopback Discord shares this loop)

    # Cross-process re-arm: a launch added through a process that is not the deliverer.
    other = next(s for s in range(PROCESSES) if pid_of_shard[s] != deliverer)
    probe_guild = next(g for g in guilds[:PROCESSES] if shard_of(g.id, PROCESSES) == other)
    channel = alerts[probe_guild.id]
    record = await server.run_command(
        probe_guild.id, channel, probe_guild.owner_id, "launch add", product="Gemini Ultra",
        vendor="Google", window="end of 2024", announced_on="2024-07-01", timeout=30.0,
    )  # fmt: skip
    replied = min(r.time for r in record.requests)  # the interaction callback
    path = f"/channels/{channel}/messages"

    def alert_posted() -> float | None:
        times = [r.time for r in server.requests if r.path == path and r.ok and r.time > replied]
        return min(times) if times else None

    posted = await _wait(alert_posted, 30, "the re-arm alert")
    rearm_ms = (posted - replied) * 1000

    # The fan-out, and the deliverer killed half-way.
    start_requests = len(server.requests)
    t0 = time.monotonic()
    await server.run_command(
        fanout.id, alerts[fanout.id], manager, "launch add", product="Grok 3", vendor="xAI",
        window="end of 2024", announced_on="2024-07-01", timeout=30.0,
    )  # fmt: skip
    wanted = set(users)

    def reached() -> int:
        return len({m.recipient_id for m in server.messages() if m.is_dm} & wanted)

    # Counting is a pass over every message: not too often, the loopback Discord shares this
    # process.
    await _wait(lambda: reached() >= recipients // 2, recipients, "half of the DMs", 0.25)
    victim = await asyncio.to_thread(_deliverer_pid, url)
    if victim is None or victim not in pid_of_shard.values():
        raise RuntimeError(f"the deliverer's lock is held by {victim}, not by a bot of this run")
    ports = _ports_of([p.pid for p in procs])
    os.kill(victim, signal.SIGKILL)
    t_kill = time.monotonic()

    def successor() -> int | None:
        pid = _deliverer_pid(url)
        return pid if pid not in (None, victim) else None

    for _ in range(int(60 / 0.05)):  # bounded: a successor is elected within a second
        if await asyncio.to_thread(successor) is not None:
            break
        await asyncio.sleep(0.05)
    t_elected = time.monotonic()
    heir = _deliverer_pid(url)
    floor = recipients * 2 / GLOBAL_LIMIT
    await _wait(lambda: reached() >= recipients, floor * 3 + 60, "every DM", 0.25)
    window = server.requests[start_requests:]
    posts = [r.time for r in window if r.method == "POST" and r.ok]
    elapsed = max(posts) - t0
    # Requests the victim had on the wire may still land just after the kill: the failover
    # ends with the first message the new deliverer got accepted.
    after_kill = [t for t in posts if t > t_elected]
    needed = sum(1 for r in window if r.ok)
    per_user = Counter(m.recipient_id for m in server.messages() if m.is_dm)
    delivered = [per_user.get(u, 0) for u in users]
    trace = os.environ.get("SLIPWATCH_BENCH_TRACE")
    if trace:
        ports.update(_ports_of([p.pid for p in procs if p.returncode is None]))
        roles = {p.pid: f"bot{i}" for i, p in enumerate(procs)}
        roles[victim] += " (killed deliverer)"
        if heir is not None:
            roles[heir] += " (new deliverer)"
        _trace(Path(trace), server.requests, ports, roles, t_kill)
        cpu = {roles[p.pid]: _cpu_s(p.pid) for p in procs if p.returncode is None}
        cpu["bench (loopback Discord)"] = time.process_time()
        print(f"CPU seconds so far: {cpu}", file=sys.stderr)
    first_dm = min(r.time for r in window if r.ok and r.path.startswith("/users/@me/"))
    before_kill = [t for t in posts if first_dm <= t <= t_kill]
    return {
        "bench": "cluster",
        "processes": PROCESSES,
        "servers": guild_count,
        "recipients": recipients,
        "requests": needed,
        "seconds": round(elapsed, 2),
        "efficiency": round((needed / GLOBAL_LIMIT) / elapsed, 3),
        "lost": sum(1 for d in delivered if d == 0),
        "duplicated": sum(d - 1 for d in delivered if d > 1),
        "failover_s": round(min(after_kill) - t_kill, 2) if after_kill else None,
        "cross_process_rearm_ms": round(rearm_ms, 1),
        # Global 429s: the limit every process of the bot shares. Per-route 429s (a channel's
        # own 5 per 5 s) are discord.py's ordinary bucket waits, counted apart.
        "rejected_429": sum(1 for r in server.requests if _is_429(r, global_=True)),
        "route_429": sum(1 for r in server.requests if _is_429(r, global_=False)),
        "rate_before_kill": round(len(before_kill) / max(t_kill - first_dm, 1e-9), 1),
        "rate_after_failover": round(len(after_kill) / max(max(posts) - t_elected, 1e-9), 1),
        "identify_too_fast": len(server.gateway.identify_too_fast),
    }


def _ports_of(pids: list[int]) -> dict[int, int]:
    """Local TCP port -> pid of every socket the given processes hold (Linux /proc)."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        inodes[link[8:-1]] = pid
        except OSError:
            continue
    ports: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                cols = line.split()
                owner = inodes.get(cols[9])
                if owner is not None:
                    ports[int(cols[1].rsplit(":", 1)[1], 16)] = owner
    return ports


def _trace(
    path: Path, requests: list[Any], ports: dict[int, int], roles: dict[int, str], t_kill: float
) -> None:
    """Every request of the run, one JSON line each, with the process that sent it; and the
    global 429s with the second before each, to stderr (SLIPWATCH_BENCH_TRACE=FILE)."""

    def who(record: Any) -> str:
        pid = ports.get(record.peer_port) if record.peer_port is not None else None
        return roles.get(pid, f"pid {pid}") if pid is not None else "?"

    with path.open("w") as out:
        for r in requests:
            out.write(json.dumps({
                "t": round(r.time - t_kill, 4), "who": who(r), "route": r.route or r.path,
                "status": r.status, "global": _is_429(r, global_=True),
            }) + "\n")  # fmt: skip
    for r in requests:
        if _is_429(r, global_=True):
            before = [q for q in requests if r.time - 1.0 < q.time <= r.time and q.ok]
            counts = Counter(who(q) for q in before)
            print(
                f"global 429 at kill{r.time - t_kill:+.3f}s from {who(r)} on {r.route}; "
                f"accepted in the second before: {dict(counts)}",
                file=sys.stderr,
            )


def _is_429(record: Any, *, global_: bool) -> bool:
    body = record.response if isinstance(record.response, dict) else {}
    return bool(record.status == 429 and bool(body.get("global")) == global_)


def _profiler(log: Path) -> list[str]:
    # SLIPWATCH_BENCH_PROFILE=DIR: each process under cProfile, DIR/bot<n>.prof on a clean exit
    # (the killed deliverer writes none).
    where = os.environ.get("SLIPWATCH_BENCH_PROFILE")
    return ["-m", "cProfile", "-o", str(Path(where) / (log.stem + ".prof"))] if where else []


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a live process has used (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _spawn(
    env: dict[str, str], cwd: Path, *args: str, log: Path
) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, *_profiler(log), str(ROOT / "bot.py"), *args,
            env=env, cwd=cwd, stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    guilds, recipients = (300, 200) if args.quick else (3000, 2000)
    started = dt.datetime.now(dt.UTC)
    result = asyncio.run(run(guilds, recipients))
    result["started"] = started.isoformat(timespec="seconds")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
