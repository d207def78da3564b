-- The daemon: who did a run's work, when a running run last showed life,
-- each cooperative's contact address, and the notifications outbox.

-- `lead` runs hold the job's advisory lock and do its whole work; `help`
-- runs only take claimable work (publications, order details) while another
-- instance leads.
ALTER TABLE sync_runs ADD COLUMN role TEXT NOT NULL DEFAULT 'lead' CHECK (role IN ('lead', 'help'));
CREATE INDEX sync_runs_lead_idx ON sync_runs (kind, started_at DESC) WHERE role = 'lead';

-- Where the cooperative's staff are told about orders (koperasi.csv `email`).
ALTER TABLE cooperatives ADD COLUMN email TEXT;

-- One row per order, kind and channel: the unique key is what makes each
-- notification go out once, however many syncs or daemons see the order.
CREATE TABLE notifications (
    id               BIGSERIAL PRIMARY KEY,
    order_id         BIGINT NOT NULL REFERENCES purchase_orders(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('arrived', 'deadline_near')),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient        TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'moot')),
    attempts         INT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    claimed_by       TEXT,
    claimed_until    TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at          TIMESTAMPTZ,
    last_error       TEXT,
    UNIQUE (order_id, kind, channel)
);
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE state = 'pending';
