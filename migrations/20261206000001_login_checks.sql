-- A login attempt is recorded before its password is checked ('checking'),
-- under the account's advisory lock, so concurrent attempts cannot get more
-- checks than the throttle allows; a wrong password makes it 'failed', a right
-- one removes the account's rows. A try refused while its address waits is
-- 'held': it lengthens that address's wait, never the account's count across
-- addresses (which only checked failures make).
ALTER TABLE login_failures ADD COLUMN outcome TEXT NOT NULL DEFAULT 'failed' CHECK (outcome IN ('checking', 'failed', 'held'));
