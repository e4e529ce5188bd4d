-- Jobs no longer NOTIFY from the transaction that writes them. A
-- transaction that has sent NOTIFY takes a database-wide lock at commit
-- and holds it until its commit record is flushed, so every SCIM write
-- that made a job committed one after another (measured: about 250
-- membership changes per second at 32 clients, with the propagation p99
-- over 300 ms). Instead a write wakes the workers of its own daemon
-- in-process (sync_workers_kick), other daemons poll every sync.poll_ms,
-- and the rare writers outside a request (reconciliation, an operator's
-- retry) notify explicitly (db_outbox_notify).
DROP TRIGGER sync_job_notify ON sync_job;
DROP FUNCTION vb_sync_notify();
