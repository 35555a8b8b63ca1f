"""Per-server limits: no server can fill the bot's disk, its probes or its send rate at the
others' expense. The operator sets them (.env.example); every refusal says which limit was
reached and what to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """What one server (guild) may have or do."""

    launches_per_guild: int = 2000  # SLIPWATCH_MAX_LAUNCHES
    probes_per_guild: int = 25  # SLIPWATCH_MAX_PROBES
    proposals_per_poll: int = 5  # SLIPWATCH_MAX_PROPOSALS_PER_POLL: posted one by one
    imports_per_hour: int = 10  # SLIPWATCH_MAX_IMPORTS_PER_HOUR
