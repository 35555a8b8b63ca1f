-- slipwatch schema v1. Timestamps are integer milliseconds since the Unix epoch, UTC;
-- calendar days are ISO text (YYYY-MM-DD).

CREATE TABLE guilds (
    guild_id          INTEGER PRIMARY KEY,
    timezone          TEXT    NOT NULL DEFAULT 'UTC',
    grace_days        INTEGER NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 365),
    reminder_offsets  TEXT    NOT NULL DEFAULT '7,1',
    late_milestones   TEXT    NOT NULL DEFAULT '7,30,90',
    alert_channel_id  INTEGER,
    manager_role_id   INTEGER,
    mention_role_id   INTEGER,
    locale            TEXT    NOT NULL DEFAULT 'en',
    digest_channel_id INTEGER,
    digest_schedule   TEXT    NOT NULL DEFAULT 'weekly:mon:09:00',
    digest_when_empty TEXT    NOT NULL DEFAULT 'short',
    updated_at        INTEGER NOT NULL
);

CREATE TABLE launches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    product       TEXT    NOT NULL,
    vendor        TEXT    NOT NULL,
    announcer     TEXT,
    source_url    TEXT,
    quote         TEXT,
    announced_on  TEXT    NOT NULL,
    window_phrase TEXT    NOT NULL,
    window_start  TEXT    NOT NULL,
    window_end    TEXT    NOT NULL,
    window_rule   TEXT    NOT NULL,
    timezone      TEXT,
    deadline_at   INTEGER NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'upcoming'
                  CHECK (state IN ('upcoming', 'slipped', 'shipped', 'cancelled')),
    slip_count    INTEGER NOT NULL DEFAULT 0,
    revision      INTEGER NOT NULL DEFAULT 0,
    shipped_on    TEXT,
    cancelled_on  TEXT,
    days_late     INTEGER,
    -- The earliest pending scheduled item (reminder, deadline, late milestone); NULL when none.
    next_due_at   INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- "What is due next" (MIN) and "what is due now" (range scan) are one index lookup each;
-- the partial index leaves resolved launches out of it entirely.
CREATE INDEX launches_due ON launches (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX launches_guild_deadline ON launches (guild_id, deadline_at);
CREATE INDEX launches_guild_product ON launches (guild_id, product COLLATE NOCASE);
CREATE INDEX launches_guild_vendor ON launches (guild_id, vendor COLLATE NOCASE);

CREATE TABLE launch_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    launch_id  INTEGER NOT NULL REFERENCES launches (id) ON DELETE CASCADE,
    guild_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    source_url TEXT,
    note       TEXT,
    data       TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX launch_events_launch ON launch_events (launch_id, id);
CREATE INDEX launch_events_guild_at ON launch_events (guild_id, at);

-- History is append-only: an event row is never changed. (Removing a whole launch removes its
-- history with it through the cascade, which is a deliberate act of a manager.)
CREATE TRIGGER launch_events_no_update BEFORE UPDATE ON launch_events
BEGIN
    SELECT RAISE(ABORT, 'launch_events is append-only');
END;

CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    scope         TEXT    NOT NULL CHECK (scope IN ('launch', 'vendor', 'all')),
    target        TEXT    NOT NULL DEFAULT '',
    mode          TEXT    NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest')),
    paused_reason TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE (guild_id, user_id, scope, target)
);
CREATE INDEX subscriptions_target ON subscriptions (guild_id, scope, target);
CREATE INDEX subscriptions_user ON subscriptions (user_id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER,
    dest_kind       TEXT    NOT NULL CHECK (dest_kind IN ('channel', 'user')),
    dest_id         INTEGER NOT NULL,
    idem_key        TEXT    NOT NULL UNIQUE,
    nonce           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'held', 'failed', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    sent_message_id INTEGER,
    created_at      INTEGER NOT NULL,
    -- When it last became pending (created, or released after its destination was fixed):
    -- the maximum age counts from here, so held alerts are not given up while held.
    queued_at       INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_dest ON outbox (dest_kind, dest_id, state);

-- Destinations that Discord refused for good (missing permissions, unknown channel).
CREATE TABLE broken_destinations (
    dest_kind   TEXT    NOT NULL,
    dest_id     INTEGER NOT NULL,
    guild_id    INTEGER,
    reason      TEXT    NOT NULL,
    since       INTEGER NOT NULL,
    notified_at INTEGER,
    PRIMARY KEY (dest_kind, dest_id)
);

-- Cache of DM channel ids so that a DM costs one request, not two.
CREATE TABLE dm_channels (
    user_id    INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL
);
