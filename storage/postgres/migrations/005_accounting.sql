-- slipwatch schema for PostgreSQL: honest accounting (twin of storage/migrations/005_accounting.sql).
-- Columns are only added: every row is kept.

ALTER TABLE launches ADD COLUMN first_window_end TEXT;
ALTER TABLE launches ADD COLUMN evidence TEXT NOT NULL DEFAULT 'official'
    CHECK (evidence IN ('official', 'reported', 'rumour'));
ALTER TABLE launches ADD COLUMN announced_precision TEXT NOT NULL DEFAULT 'day'
    CHECK (announced_precision IN ('day', 'month'));
ALTER TABLE launches ADD COLUMN outcome_precision TEXT NOT NULL DEFAULT 'day'
    CHECK (outcome_precision IN ('day', 'month'));

-- The first promise is the window the "created" event recorded; else the current window.
UPDATE launches SET first_window_end = COALESCE(
    (SELECT e.data::jsonb ->> 'window_end' FROM launch_events e
     WHERE e.launch_id = launches.id AND e.kind = 'created'
       AND e.data LIKE '{%' AND (e.data::jsonb ->> 'window_end') IS NOT NULL
     ORDER BY e.id LIMIT 1),
    window_end);

-- days_late becomes signed and measured against the first promise; a cancelled launch has none.
UPDATE launches SET days_late = (shipped_on::date - first_window_end::date)
    WHERE state = 'shipped' AND shipped_on IS NOT NULL;
UPDATE launches SET days_late = NULL WHERE state = 'cancelled';

ALTER TABLE subscriptions ADD COLUMN label TEXT;
