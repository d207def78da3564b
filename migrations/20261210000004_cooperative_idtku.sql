-- A cooperative's IDTKU (NITKU) for its tax invoices in Coretax: its TIN's
-- 16 digits then 6 for the place of business. When not given, its head
-- office's (the TIN and 000000) is written.
ALTER TABLE cooperatives ADD COLUMN idtku TEXT;
