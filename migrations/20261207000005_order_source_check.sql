-- An order's source is one the code knows (domain::order::OrderSource): the
-- store reads it back as that enum. NOT VALID: rows already stored are not
-- scanned again (they were all written by the code), new ones are checked.
ALTER TABLE purchase_orders ADD CONSTRAINT purchase_orders_source_check
    CHECK (source IN ('ekatalog-v6', 'peppol-ubl')) NOT VALID;
