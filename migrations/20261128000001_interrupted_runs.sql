-- A run stopped by a signal is `interrupted`; one whose process vanished
-- without finishing it (its heartbeat stopped) is `abandoned`.
ALTER TABLE sync_runs DROP CONSTRAINT sync_runs_status_check;
ALTER TABLE sync_runs ADD CONSTRAINT sync_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted', 'abandoned'));
ALTER TABLE sync_runs ADD COLUMN heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now();
CREATE INDEX sync_runs_running_idx ON sync_runs (instance) WHERE status = 'running';
