-- slipwatch schema v4 for PostgreSQL: the twin of storage/migrations/004_scale.sql.
-- guilds.digest_due_at: the next time the guild's digest needs handling (NULL: not computed yet).
ALTER TABLE guilds ADD COLUMN digest_due_at BIGINT;
CREATE INDEX guilds_digest_due ON guilds (digest_due_at) WHERE digest_schedule <> 'off';

-- outbox.fair_key: the delivery order, fair between servers (see the SQLite twin).
ALTER TABLE outbox ADD COLUMN fair_key BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET fair_key = id;
CREATE INDEX outbox_fair ON outbox (fair_key, id, next_attempt_at, dest_id) WHERE state = 'pending';
CREATE INDEX outbox_guild_fair ON outbox (guild_id, fair_key) WHERE state = 'pending';
