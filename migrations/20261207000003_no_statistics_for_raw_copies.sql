-- The raw copies of what the catalogue sent are kept, never searched (issue 33).
--
-- ANALYZE need not sample them: sorting 30,000 jsonb values was a third of
-- each analyze of purchase_orders after a large sync.
ALTER TABLE purchase_orders ALTER COLUMN raw SET STATISTICS 0;
ALTER TABLE order_lines ALTER COLUMN raw SET STATISTICS 0;
ALTER TABLE inaproc_line_stage ALTER COLUMN raw SET STATISTICS 0;

-- An order's raw copy (about 800 bytes from INAPROC) goes out of line, to
-- TOAST, rather than filling its row: a package is stored once and updated
-- when its lines are written, and the update then copies a pointer, not the
-- copy; the table the dashboard scans is a fraction of the size.
ALTER TABLE purchase_orders SET (toast_tuple_target = 256);
