-- slipwatch schema v3: release probes. A probe polls one source for one launch; what it sees
-- becomes a detection, unique per probe and evidence key, so it is proposed once. API keys are
-- never stored: a probe holds only the NAME of the environment variable that holds its key.

CREATE TABLE probes (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id             INTEGER NOT NULL,
    launch_id            INTEGER NOT NULL REFERENCES launches (id) ON DELETE CASCADE,
    kind                 TEXT    NOT NULL CHECK (kind IN ('models', 'anthropic-models',
                                 'huggingface', 'github', 'feed', 'page')),
    target               TEXT    NOT NULL,
    pattern              TEXT    NOT NULL DEFAULT '',
    auto_confirm         INTEGER NOT NULL DEFAULT 0 CHECK (auto_confirm IN (0, 1)),
    interval_minutes     INTEGER NOT NULL CHECK (interval_minutes >= 5),
    api_key_env          TEXT,
    enabled              INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    next_check_at        INTEGER NOT NULL,
    last_checked_at      INTEGER,
    last_ok_at           INTEGER,
    -- A short outcome of the last poll for /launch probes ("changed", "unchanged (304)", ...).
    last_status          TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    -- Feeds and pages: what matched at the first successful poll is the baseline, not news.
    baseline_done        INTEGER NOT NULL DEFAULT 0 CHECK (baseline_done IN (0, 1)),
    disabled_reason      TEXT,
    disabled_at          INTEGER,
    created_by           TEXT    NOT NULL,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (launch_id, kind, target, pattern)
);
-- "When is the next probe due" (MIN) and "which are due now" are one index lookup each.
CREATE INDEX probes_due ON probes (next_check_at) WHERE enabled = 1;
CREATE INDEX probes_guild_launch ON probes (guild_id, launch_id);

-- HTTP validators per probe and request (github makes two requests per poll).
CREATE TABLE probe_validators (
    probe_id      INTEGER NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    etag          TEXT,
    last_modified TEXT,
    PRIMARY KEY (probe_id, name)
);

CREATE TABLE probe_detections (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    probe_id      INTEGER NOT NULL REFERENCES probes (id) ON DELETE CASCADE,
    guild_id      INTEGER NOT NULL,
    launch_id     INTEGER NOT NULL,
    kind          TEXT    NOT NULL,
    evidence_key  TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    url           TEXT,
    matched       TEXT    NOT NULL DEFAULT '',
    published_at  INTEGER,
    detected_at   INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('baseline', 'proposed', 'confirmed',
                          'auto_confirmed', 'rejected', 'superseded')),
    auto_confirm  INTEGER NOT NULL DEFAULT 0 CHECK (auto_confirm IN (0, 1)),
    decided_by    TEXT,
    decided_at    INTEGER,
    -- Set when the Discord layer has posted the proposal (the durable "to post" queue).
    posted_at     INTEGER,
    message_id    INTEGER,
    UNIQUE (probe_id, evidence_key)
);
CREATE INDEX probe_detections_launch ON probe_detections (guild_id, launch_id, state);
CREATE INDEX probe_detections_unposted ON probe_detections (detected_at)
    WHERE posted_at IS NULL AND state IN ('proposed', 'auto_confirmed');
