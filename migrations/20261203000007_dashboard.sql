-- The dashboard (issue 17): accounts, their sessions, failed logins (for
-- throttling) and the audit log of every action taken on a page.

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,39}$'),
    role            TEXT NOT NULL CHECK (role IN ('liaison', 'cooperative')),
    -- A cooperative user's cooperative; none for the liaison, who sees all.
    cooperative_id  BIGINT REFERENCES cooperatives(id),
    password_hash   TEXT NOT NULL,                 -- argon2id, PHC string
    disabled_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((role = 'cooperative') = (cooperative_id IS NOT NULL))
);

-- The cookie carries a random id; only its SHA-256 is stored, so the table
-- read by someone else opens no session.
CREATE TABLE web_sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    address       TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);

CREATE TABLE login_failures (
    id        BIGSERIAL PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    username  TEXT NOT NULL,
    address   TEXT NOT NULL
);
CREATE INDEX login_failures_user_idx ON login_failures (username, at);
CREATE INDEX login_failures_address_idx ON login_failures (address, at);

CREATE TABLE audit_log (
    id              BIGSERIAL PRIMARY KEY,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    user_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    username        TEXT NOT NULL,
    -- The cooperative the action concerned, when one: a cooperative's user
    -- sees its own cooperative's entries.
    cooperative_id  BIGINT REFERENCES cooperatives(id),
    action          TEXT NOT NULL,
    subject         TEXT,
    detail          JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_coop_idx ON audit_log (cooperative_id, at DESC);

-- The order list per cooperative, newest first, without a sort of the table.
CREATE INDEX purchase_orders_coop_date_idx ON purchase_orders (cooperative_id, order_date DESC NULLS LAST, id DESC);
CREATE INDEX purchase_orders_date_idx ON purchase_orders (order_date DESC NULLS LAST, id DESC);
CREATE INDEX publications_seller_state_idx ON publications (seller, state, id);
