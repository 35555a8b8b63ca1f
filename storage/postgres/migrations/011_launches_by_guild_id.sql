-- slipwatch schema v11 for PostgreSQL: a server's launches in id order (twin of
-- storage/migrations/011_launches_by_guild_id.sql), for exports read in pages keyed by id.
CREATE INDEX launches_guild_id ON launches (guild_id, id);
