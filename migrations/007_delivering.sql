-- A token is handed out in two steps, so that a cut connection loses nothing: the poll that
-- claims it marks the flow 'delivered' (only one poll can), the answer is written, and only
-- then is the row deleted. When the answer cannot be written (the client has gone), the flow
-- goes back to 'approved' and the next poll of the same device code receives the token, still
-- once (docs/postiz.md, "Every answer the CLI can get").
ALTER TABLE device_requests DROP CONSTRAINT device_requests_status_check;
ALTER TABLE device_requests ADD CONSTRAINT device_requests_status_check
  CHECK (status IN ('pending', 'approved', 'delivered', 'denied', 'cancelled'));
