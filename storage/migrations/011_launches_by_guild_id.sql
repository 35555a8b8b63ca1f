-- slipwatch schema v11: a server's launches in id order, one index range each. Exports read a
-- server's launches in pages keyed by id (WHERE guild_id = ? AND id > ? ORDER BY id LIMIT ?);
-- without this index every page sorted the whole server's launches again.
CREATE INDEX launches_guild_id ON launches (guild_id, id);
