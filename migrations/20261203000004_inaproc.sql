-- The INAPROC data API (issue 18).

-- Its lines say what each product of an order cost (nilai_transaksi), not
-- how many or at what unit price: those are unknown for such lines.
ALTER TABLE order_lines ALTER COLUMN quantity DROP NOT NULL, ALTER COLUMN unit_price DROP NOT NULL;

-- Requests sent to a rate-limited API, shared by every job and every daemon
-- on this database: a request is sent only after its row is written under
-- the quota's lock (store/quota.rs). Rows older than two hours are deleted.
CREATE TABLE api_requests (
    api TEXT NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_requests_api_at ON api_requests (api, at);
