-- What was changed to store an order the catalogue sent with a value
-- PostgreSQL refuses (a U+0000 or lone surrogate in a text, replaced by
-- U+FFFD; a raw copy the database would not take, kept without it). NULL for
-- an order stored as sent. Shown to the liaison; the order is never lost.
ALTER TABLE purchase_orders ADD COLUMN repaired text;
