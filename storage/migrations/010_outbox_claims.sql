-- slipwatch schema v10: outbox claims. A deliverer claims the rows it is about to send (until
-- claimed_until); nobody else takes them meanwhile, even a second deliverer by mistake, and a
-- new deliverer releases the claims of one that died. The outcome of the send (sent, a retry,
-- held, failed) ends the claim.
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
