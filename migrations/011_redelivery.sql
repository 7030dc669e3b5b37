-- A token is delivered to the device code that claims it, and may be collected again by the
-- same device code for a short grace after its first delivery (REDELIVERY_GRACE_MS in
-- src/device-flow/poller.ts): an answer written to a connection that was reset before the client
-- read it is not lost, and a second poll of the same device code arriving while the first is
-- being answered gets the token too, never `invalid_grant` (docs/security.md, "Token once"). The
-- row stays 'delivered' (its token still sealed to the device code's key) until the purge deletes
-- it, once the grace has passed.
ALTER TABLE device_requests ADD COLUMN delivered_at timestamptz;
