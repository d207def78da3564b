-- A cooperative can withdraw a product (aktif = tidak in its spreadsheet):
-- the catalogue formats then send a Delete line for it.
ALTER TABLE products ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;

-- GS1 Global Location Number, the PEPPOL endpoint id of a cooperative (scheme 0088).
ALTER TABLE cooperatives ADD COLUMN gln TEXT;
