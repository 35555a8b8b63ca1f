-- slipwatch schema v8: the public board's change stamp.
--
-- A board is re-rendered when a history row a reader can see appears (a promise, a slip, an
-- outcome, a re-dating, a note), never for reminders or milestones. The newest such row of a
-- server is one lookup per kind in this index, however long the server's history is.

CREATE INDEX launch_events_guild_kind ON launch_events (guild_id, kind, id);
