-- A flow whose confirmation came from another network under CROSS_NETWORK_POLICY=block ends
-- there, so the CLI stops waiting at once: its poll answers access_denied, saying why.
ALTER TABLE device_requests DROP CONSTRAINT device_requests_status_check;
ALTER TABLE device_requests ADD CONSTRAINT device_requests_status_check
  CHECK (status IN ('pending', 'approved', 'delivered', 'denied', 'cancelled', 'no_subscription', 'token_refused', 'blocked'));
