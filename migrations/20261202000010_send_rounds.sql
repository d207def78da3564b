-- A deliberate send (new content, a listing again, a withdrawal, a resubmit)
-- is a new request with a new idempotency key; only a retry of the same
-- attempt reuses its key. The key is made from the publication, what it does
-- and this round, never from the content: a create retried after its content
-- changed is the same request to the catalogue's eyes only if it is the same
-- round, and a create the catalogue already took is found by its item id.
ALTER TABLE publications ADD COLUMN send_round INTEGER NOT NULL DEFAULT 0;
-- When the catalogue last told us this listing's state (a feed entry, the
-- answer to a write, a read): the drift check reads those it has not heard of
-- for a while.
ALTER TABLE publications ADD COLUMN remote_seen_at TIMESTAMPTZ;
UPDATE publications SET remote_seen_at = updated_at WHERE remote_id IS NOT NULL;
CREATE INDEX publications_seen_idx ON publications (channel, remote_seen_at) WHERE remote_id IS NOT NULL;
