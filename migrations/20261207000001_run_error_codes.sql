-- Why a run ended badly, as a code the dashboard says in the page's
-- language; `error` keeps the sentence the command line gave (English).
ALTER TABLE sync_runs ADD COLUMN error_code TEXT;
UPDATE sync_runs SET error_code = CASE
        WHEN status = 'interrupted' THEN 'interrupted'
        WHEN error LIKE 'its process lost the job lock%' THEN 'lost_lock'
        WHEN error LIKE 'its heartbeat stopped%' THEN 'heartbeat_stopped'
        WHEN error LIKE 'its process ended without%' THEN 'process_ended'
        ELSE 'failed' END
    WHERE error IS NOT NULL;
