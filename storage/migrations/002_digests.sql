-- slipwatch schema v2: scheduled digests.
--
-- One row per guild and digest period that has been handled. It is written in the same
-- transaction as the digest's outbox rows, and (guild_id, period_key) is unique, so a period is
-- posted at most once per guild, across restarts and concurrent sweeps alike.

CREATE TABLE digest_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER NOT NULL,
    -- The guild-local wall time the period closed at, e.g. '2025-03-10T09:00'.
    period_key   TEXT    NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    -- posted:     an outbox row went to the digest channel (DMs may have gone too);
    -- no_channel: no digest or alert channel is set (only DMs, if any, went);
    -- skipped:    nothing happened and the guild asked for no empty digests;
    -- baseline:   first period seen for this schedule (new guild or changed schedule): nothing
    --             is posted for it, so a new setting never produces an instant "late" digest.
    outcome      TEXT    NOT NULL
                 CHECK (outcome IN ('posted', 'no_channel', 'skipped', 'baseline')),
    late         INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1)),
    dm_count     INTEGER NOT NULL DEFAULT 0,
    -- The schedule setting and timezone the guild's periods are counted under from this one on.
    schedule     TEXT    NOT NULL,
    timezone     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (guild_id, period_key)
);
CREATE INDEX digest_runs_guild ON digest_runs (guild_id, id);
