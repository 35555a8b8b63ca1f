-- slipwatch schema v6: what a detection says. A text probe (feed, page) reads the sentence that
-- names the launch: a release is proposed as "shipped"; a promise with a new window is proposed
-- as a re-dating (window_phrase read on window_read_on, ending window_end). A probe may track a
-- beta: then pre-releases (v2.0.0-rc.1, grok-3-beta) count as the release.
ALTER TABLE probes ADD COLUMN prereleases INTEGER NOT NULL DEFAULT 0 CHECK (prereleases IN (0, 1));
ALTER TABLE probe_detections ADD COLUMN verdict TEXT NOT NULL DEFAULT 'release'
    CHECK (verdict IN ('release', 'promise'));
ALTER TABLE probe_detections ADD COLUMN window_phrase TEXT;
ALTER TABLE probe_detections ADD COLUMN window_end TEXT;
ALTER TABLE probe_detections ADD COLUMN window_read_on TEXT;
