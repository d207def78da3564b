-- How many lines a package says its order has (INAPROC's count_product), as
-- a column: the order sync asks it of every order it completes, and reading
-- it from the raw copy (kept in TOAST) costs a fetch and a parse each time.
ALTER TABLE purchase_orders ADD COLUMN expected_lines bigint;
UPDATE purchase_orders SET expected_lines = (raw->>'count_product')::bigint
WHERE raw->>'count_product' ~ '^[0-9]{1,9}$';
