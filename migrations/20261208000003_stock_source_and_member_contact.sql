-- Where a product's stock comes from (issue 35): its own, on consignment,
-- or SPHP rice (retail stock, never sent to a catalogue). And how a member
-- is told of the orders for their products.
ALTER TABLE products ADD COLUMN stock_source TEXT NOT NULL DEFAULT 'sendiri' CHECK (stock_source IN ('sendiri', 'konsinyasi', 'sphp'));
ALTER TABLE members ADD COLUMN email TEXT; -- the phone column was there, unused, from the start
