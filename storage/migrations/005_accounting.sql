-- slipwatch schema: honest accounting. Every launch remembers its first promise (the window
-- end of its first announcement: lateness is measured against it), how sure the record is
-- (evidence) and how precisely its days are known. Columns are only added: every row is kept.

ALTER TABLE launches ADD COLUMN first_window_end TEXT;
ALTER TABLE launches ADD COLUMN evidence TEXT NOT NULL DEFAULT 'official'
    CHECK (evidence IN ('official', 'reported', 'rumour'));
ALTER TABLE launches ADD COLUMN announced_precision TEXT NOT NULL DEFAULT 'day'
    CHECK (announced_precision IN ('day', 'month'));
ALTER TABLE launches ADD COLUMN outcome_precision TEXT NOT NULL DEFAULT 'day'
    CHECK (outcome_precision IN ('day', 'month'));

-- The first promise is the window its "created" event recorded; a launch without one (imported
-- without history) has only ever been known by its current window.
UPDATE launches SET first_window_end = COALESCE(
    (SELECT json_extract(e.data, '$.window_end') FROM launch_events e
     WHERE e.launch_id = launches.id AND e.kind = 'created'
       AND json_valid(e.data) AND json_extract(e.data, '$.window_end') IS NOT NULL
     ORDER BY e.id LIMIT 1),
    window_end);

-- days_late becomes signed and measured against the first promise; a cancelled launch has none.
UPDATE launches SET days_late = CAST(julianday(shipped_on) - julianday(first_window_end) AS INTEGER)
    WHERE state = 'shipped' AND shipped_on IS NOT NULL;
UPDATE launches SET days_late = NULL WHERE state = 'cancelled';

-- A vendor subscription is matched case-insensitively; this keeps the spelling the user typed.
ALTER TABLE subscriptions ADD COLUMN label TEXT;
