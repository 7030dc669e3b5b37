-- A login the provider refuses to serve ends as 'refused', with the provider's reason beside it
-- (Postiz: no_subscription, token_refused), instead of one status per Postiz reason: the core
-- knows refusals, each provider's profile names them (src/upstream/, docs/providers.md).
ALTER TABLE device_requests ADD COLUMN refusal text;
ALTER TABLE device_requests DROP CONSTRAINT device_requests_status_check;
UPDATE device_requests SET refusal = status, status = 'refused' WHERE status IN ('no_subscription', 'token_refused');
ALTER TABLE device_requests ADD CONSTRAINT device_requests_status_check
  CHECK (status IN ('pending', 'approved', 'delivered', 'denied', 'cancelled', 'refused', 'blocked'));
