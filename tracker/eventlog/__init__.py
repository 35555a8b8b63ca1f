"""The event-log CSV: a launch history as a journalist keeps it, one row per event.

    product,vendor,date,event,window,announcer,source,quote,evidence

``event`` is announced | reannounced | revived | shipped | cancelled | note; ``date`` is
YYYY-MM-DD or YYYY-MM (a month-only day counts from the month's first day); ``window`` is the
phrase as announced, read by tracker.windows with the row's date as the announcement day
(required for announced, reannounced and revived); ``evidence`` is official (default), reported
or rumour. A cancellation may be undated (an empty date: "quietly dropped"). The rows of one
launch (same product and vendor, case-insensitive) are in date order and the first is
"announced".

- rows: :func:`read_log` checks every row (each problem names its line and column).
- replay: :func:`replay` replays each launch's rows through the same rules as the lifecycle,
  giving the launch as it stands at *now* and its history. Pure; importing the result is
  tracker.transfer's job.
"""

from tracker.eventlog.replay import ReplayedLaunch, promised_window, replay
from tracker.eventlog.rows import COLUMNS, LogEvent, LogIssue, LogRow, is_event_log, read_log

__all__ = [
    "COLUMNS",
    "LogEvent",
    "LogIssue",
    "LogRow",
    "ReplayedLaunch",
    "is_event_log",
    "promised_window",
    "read_log",
    "replay",
]
