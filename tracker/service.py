"""The Tracker's old address, for the modules that still import from here (tracker.discovery,
tracker.probes.service): the lifecycle lives in tracker.launches."""

from __future__ import annotations

from tracker.launches import MAX_NOTE, Added, Tracker, clean_url

__all__ = ["MAX_NOTE", "Added", "Tracker", "clean_url"]
