"""The two notices a probe writes to its guild's alert channel, each as one outbox row in the
transaction that caused it (so it is told once): the proposals past the per-poll cap, summed
up; and "this probe was turned off" after too many failures in a row."""

from __future__ import annotations

import datetime as dt

from tracker.clock import millis
from tracker.models import Alert, AlertKind, DestinationKind, LaunchSnapshot
from tracker.outbox import fanout
from tracker.ports import Session
from tracker.probes import Detection, Probe
from tracker.service import MAX_NOTE
from tracker.text import cut, plural


async def write_summary_notice(
    tx: Session, probe: Probe, extra: list[Detection], now: dt.datetime
) -> None:
    """The one message that sums up the proposals past the per-poll cap."""
    seen = ", ".join(f'"{d.title[:80]}"' for d in extra[:10])
    more = f" and {plural(len(extra) - 10, 'other')}" if len(extra) > 10 else ""
    text = (
        f"Probe #{probe.id} ({probe.kind.value} {probe.target}) also saw "
        f"{plural(len(extra), 'more match')} in this check, not posted one by one: "
        f"{seen}{more}. If one of them is the release, mark it with /launch shipped."
    )
    await _write_note(tx, probe, cut(text, MAX_NOTE), "more", now)


async def write_disabled_notice(
    tx: Session, probe: Probe, failures: int, error: str, now: dt.datetime
) -> None:
    """The durable "probe turned off" notice."""
    text = (
        f"Probe #{probe.id} ({probe.kind.value} {probe.target}) was turned off after "
        f"{failures} failed checks in a row. Last error: {error} "
        "Fix the source and turn it back on from /launch probes, or remove it with "
        "/launch unwatch."
    )
    await _write_note(tx, probe, text[:MAX_NOTE], "disabled", now)


async def _write_note(tx: Session, probe: Probe, note: str, tag: str, now: dt.datetime) -> None:
    """One NOTE alert about *probe*'s launch to the guild's alert channel (none without one)."""
    launch = await tx.launches.get_launch(probe.launch_id, probe.guild_id)
    config = await tx.guilds.get_guild(probe.guild_id)
    if launch is None or config.alert_channel_id is None:
        return
    alert = Alert(
        kind=AlertKind.NOTE,
        launch=LaunchSnapshot.of(launch, launch.timezone or config.timezone),
        at=now,
        note=note,
        actor="slipwatch",
    )
    pending = fanout.Pending(
        guild_id=probe.guild_id,
        dest_kind=DestinationKind.CHANNEL,
        dest_id=config.alert_channel_id,
        idem_key=f"P{probe.id}.{tag}.{millis(now)}:c{config.alert_channel_id}",
        alert=alert,
        mention_role_id=None,
    )
    await fanout.write(tx, [(pending,)], now)
