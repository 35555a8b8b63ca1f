-- slipwatch schema v10 for PostgreSQL: outbox claims (twin of storage/migrations/010_outbox_claims.sql).
-- Rows are claimed with SELECT ... FOR UPDATE SKIP LOCKED, so two deliverers never claim one row.
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
