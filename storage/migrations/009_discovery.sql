-- slipwatch schema v9: promise discovery. A discovery watches one vendor's feed or page for new
-- promises; each new entry whose text promises a window becomes one proposal per server
-- (unique per guild and entry key), posted through the outbox and tracked or ignored once.

CREATE TABLE discoveries (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id             INTEGER NOT NULL,
    vendor               TEXT    NOT NULL,
    kind                 TEXT    NOT NULL CHECK (kind IN ('feed', 'page')),
    target               TEXT    NOT NULL,
    interval_minutes     INTEGER NOT NULL CHECK (interval_minutes >= 5),
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    next_check_at        INTEGER NOT NULL,
    etag                 TEXT,
    last_modified        TEXT,
    last_checked_at      INTEGER,
    last_status          TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- What the source said at the first successful poll is the baseline, not news.
    baseline_done        INTEGER NOT NULL DEFAULT 0 CHECK (baseline_done IN (0, 1)),
    created_by           TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    UNIQUE (guild_id, kind, target)
);
CREATE INDEX discoveries_due ON discoveries (next_check_at) WHERE enabled = 1;

CREATE TABLE promise_proposals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    discovery_id  INTEGER NOT NULL REFERENCES discoveries (id) ON DELETE CASCADE,
    entry_key     TEXT    NOT NULL,
    vendor        TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    url           TEXT,
    sentence      TEXT    NOT NULL,
    phrase_start  INTEGER NOT NULL,
    phrase_end    INTEGER NOT NULL,
    window_phrase TEXT    NOT NULL,
    window_start  TEXT    NOT NULL,
    window_end    TEXT    NOT NULL,
    announced_on  TEXT    NOT NULL,
    product       TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('baseline', 'proposed', 'summed',
                          'tracked', 'ignored')),
    launch_id     INTEGER,
    decided_by    TEXT,
    created_at    INTEGER NOT NULL,
    decided_at    INTEGER,
    UNIQUE (guild_id, entry_key)
);
