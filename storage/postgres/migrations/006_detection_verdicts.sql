-- slipwatch schema v6 for PostgreSQL: what a detection says (twin of
-- storage/migrations/006_detection_verdicts.sql).
ALTER TABLE probes ADD COLUMN prereleases BIGINT NOT NULL DEFAULT 0 CHECK (prereleases IN (0, 1));
ALTER TABLE probe_detections ADD COLUMN verdict TEXT NOT NULL DEFAULT 'release'
    CHECK (verdict IN ('release', 'promise'));
ALTER TABLE probe_detections ADD COLUMN window_phrase TEXT;
ALTER TABLE probe_detections ADD COLUMN window_end TEXT;
ALTER TABLE probe_detections ADD COLUMN window_read_on TEXT;
