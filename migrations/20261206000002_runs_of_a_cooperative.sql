-- A run that concerns one cooperative only (an import of its file, a publish
-- of its products): its staff see it whole on the dashboard; of the others
-- they see the city-wide jobs' runs as a summary.
ALTER TABLE sync_runs ADD COLUMN cooperative_id BIGINT REFERENCES cooperatives(id);
CREATE INDEX sync_runs_cooperative_idx ON sync_runs (cooperative_id, started_at DESC) WHERE cooperative_id IS NOT NULL;
