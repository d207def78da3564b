-- The city's purchase plan (issue 36): the announced packages of each buyer
-- (RUP, read from INAPROC) with the local categories each speaks of, each
-- change to one as an event, the packages INAPROC shows bought from sellers
-- that are not ours, and what each cooperative was told. A package is
-- matched to every cooperative with a product of one of its categories
-- (`rup_cooperative_categories`): matches follow the products, never stale.
CREATE TABLE rup_packages (
    kd_rup               TEXT PRIMARY KEY,
    kode_klpd            TEXT NOT NULL,
    tahun                INTEGER NOT NULL,
    nama_paket           TEXT NOT NULL,
    uraian               TEXT NOT NULL DEFAULT '',
    kd_satker            TEXT,                 -- as text: SIRUP's codes keep their leading zeros
    nama_satker          TEXT,
    pagu                 NUMERIC(20,2) NOT NULL CHECK (pagu >= 0),
    metode               TEXT NOT NULL DEFAULT '',
    jenis                TEXT NOT NULL DEFAULT '',
    status_ukm           BOOLEAN NOT NULL DEFAULT false,
    status_pdn           BOOLEAN NOT NULL DEFAULT false,
    nama_ppk             TEXT,
    tgl_awal_pemilihan   DATE,
    tgl_akhir_pemilihan  DATE,
    tgl_awal_kontrak     DATE,
    tgl_akhir_kontrak    DATE,
    sumber_dana          TEXT,
    announced            BOOLEAN NOT NULL,
    active               BOOLEAN NOT NULL,
    -- On the announced list at the last reading of its buyer and year read to the end.
    listed               BOOLEAN NOT NULL DEFAULT true,
    -- The local categories its name and description speak of (mappings/rup-keywords.csv).
    categories           TEXT[] NOT NULL DEFAULT '{}',
    raw                  JSONB NOT NULL,
    -- A digest of the row as INAPROC sent it and of its categories: a copy read again the same costs no write.
    digest               TEXT NOT NULL,
    first_seen           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rup_packages_year ON rup_packages (kode_klpd, tahun, kd_rup);
CREATE INDEX rup_packages_by_date ON rup_packages (tgl_awal_pemilihan, kd_rup);
CREATE INDEX products_category ON products (category, cooperative_id);
-- What each cooperative lists: a package of one of these categories is an opportunity for it.
CREATE VIEW rup_cooperative_categories AS SELECT DISTINCT cooperative_id, category FROM products;

CREATE TABLE rup_events (
    id       BIGSERIAL PRIMARY KEY,
    kd_rup   TEXT NOT NULL REFERENCES rup_packages(kd_rup) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('budget', 'date', 'withdrawn', 'returned')),
    before   TEXT,
    after    TEXT,
    run_id   BIGINT,
    at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rup_events_package ON rup_events (kd_rup, id);

-- Packages of other sellers that carry a RUP code, as INAPROC's order data shows them.
CREATE TABLE rup_purchases (
    remote_order_id  TEXT PRIMARY KEY,
    rup_code         TEXT NOT NULL,
    kode_penyedia    TEXT NOT NULL,
    total            NUMERIC(20,2) NOT NULL,
    status           TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX rup_purchases_code ON rup_purchases (rup_code);
CREATE INDEX purchase_orders_rup_code ON purchase_orders (rup_code) WHERE rup_code IS NOT NULL;

-- What a cooperative was told of a package: the opportunity once, then one
-- correction per news (moved to a date, withdrawn), never the same twice.
CREATE TABLE rup_notices (
    id              BIGSERIAL PRIMARY KEY,
    kd_rup          TEXT NOT NULL REFERENCES rup_packages(kd_rup) ON DELETE CASCADE,
    cooperative_id  BIGINT NOT NULL REFERENCES cooperatives(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL CHECK (kind IN ('opportunity', 'moved', 'withdrawn')),
    told_date       DATE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (kd_rup, cooperative_id, kind, told_date)
);

-- A notification is about an order, or about a plan package told to a cooperative.
ALTER TABLE notifications ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE notifications ADD COLUMN rup_notice_id BIGINT REFERENCES rup_notices(id) ON DELETE CASCADE;
ALTER TABLE notifications ADD CONSTRAINT notifications_about_one CHECK ((order_id IS NULL) <> (rup_notice_id IS NULL));
CREATE UNIQUE INDEX notifications_once_per_notice ON notifications (rup_notice_id, channel) WHERE rup_notice_id IS NOT NULL;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('arrived', 'deadline_near', 'deadline_last', 'overdue_shipped',
    'overdue_delivered', 'overdue_bast', 'overdue_faktur', 'overdue_invoice', 'overdue_paid', 'member_order', 'stock_low',
    'rup_opportunity', 'rup_correction'));
