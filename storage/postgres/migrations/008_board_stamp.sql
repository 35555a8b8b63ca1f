-- slipwatch schema v8 for PostgreSQL: the public board's change stamp (twin of
-- storage/migrations/008_board_stamp.sql).

CREATE INDEX launch_events_guild_kind ON launch_events (guild_id, kind, id);
