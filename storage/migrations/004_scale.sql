-- slipwatch schema v4: costs that do not grow with the number of servers.
--
-- guilds.digest_due_at: when the guild's digest next needs handling (ms, UTC): the end of a
-- waiting period, or the next scheduled local time. NULL means "not computed yet" (a new guild,
-- a changed setting, or a guild from before this migration): the next sweep computes it. The
-- digest timer is then one MIN() over an index, and a sweep reads only the guilds that are due.
ALTER TABLE guilds ADD COLUMN digest_due_at INTEGER;
CREATE INDEX guilds_digest_due ON guilds (digest_due_at) WHERE digest_schedule <> 'off';

-- outbox.fair_key: the delivery order, fair between servers. A new row's key is the larger of
-- the first due pending key (where delivery stands) and one past the last pending key of its own
-- server, so a server with 10,000 queued messages holds every other server's next message back
-- by at most one of its own.
ALTER TABLE outbox ADD COLUMN fair_key INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET fair_key = id;
CREATE INDEX outbox_fair ON outbox (fair_key, id, next_attempt_at, dest_id) WHERE state = 'pending';
CREATE INDEX outbox_guild_fair ON outbox (guild_id, fair_key) WHERE state = 'pending';
