-- Tax invoices for Coretax (issue 37): each bulk import file written for a
-- PKP cooperative's month, and the orders it holds. An order is in one file
-- only, so the next file of the month does not repeat it.
CREATE TABLE tax_invoice_files (
    id              BIGSERIAL PRIMARY KEY,
    cooperative_id  BIGINT NOT NULL REFERENCES cooperatives(id) ON DELETE CASCADE,
    month           DATE NOT NULL,
    file_name       TEXT NOT NULL CHECK (length(file_name) <= 300),
    invoices        INTEGER NOT NULL,
    written_by      TEXT NOT NULL CHECK (length(written_by) <= 100),
    written_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE tax_invoice_orders (
    order_id  BIGINT PRIMARY KEY REFERENCES purchase_orders(id) ON DELETE CASCADE,
    file_id   BIGINT NOT NULL REFERENCES tax_invoice_files(id) ON DELETE CASCADE
);
