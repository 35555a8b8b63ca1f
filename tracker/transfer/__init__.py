"""Export a guild's launches with their whole history, and import them (into any guild).

An import is checked row by row first (every problem reported with its row number: the
launch's position in the file, the CSV header not counted), and written only when every row is
valid, in one transaction.

- formats: the file layouts (JSON, CSV, event log), their fields, and recognising an upload;
- export: writing export files;
- reading: an uploaded file into raw records (the file as a whole: text, size, layout);
- validation: typed reading of one record's cells and history, collecting every problem;
- planning: each record checked for the target guild and made into the launch it will be;
- service: TransferService, export and import (with a dry run) for one database.
"""

from __future__ import annotations

from tracker.transfer.export import export_csv, export_json, launch_to_dict
from tracker.transfer.formats import (
    CSV_FIELDS,
    EVENT_FIELDS,
    LAUNCH_FIELDS,
    TransferFormat,
    detect_format,
)
from tracker.transfer.planning import ImportIssue, PlannedLaunch, plan_event_log, plan_import
from tracker.transfer.reading import MAX_IMPORT_ROWS, read_rows
from tracker.transfer.service import (
    ExportFile,
    ImportReport,
    TransferService,
    Upload,
    mib,
    smaller_export_advice,
)

__all__ = [
    "CSV_FIELDS",
    "EVENT_FIELDS",
    "LAUNCH_FIELDS",
    "MAX_IMPORT_ROWS",
    "ExportFile",
    "ImportIssue",
    "ImportReport",
    "PlannedLaunch",
    "TransferFormat",
    "TransferService",
    "Upload",
    "detect_format",
    "export_csv",
    "export_json",
    "launch_to_dict",
    "mib",
    "plan_event_log",
    "plan_import",
    "read_rows",
    "smaller_export_advice",
]
