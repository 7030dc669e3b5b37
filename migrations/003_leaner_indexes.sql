-- Fewer indexes to maintain on the hot path of starting a flow (measured with `npm run bench`,
-- docs/performance.md): each insert touched six indexes, for lookups that do not need them.
-- - `state_hash` is set only between confirmation and callback: index the set values only.
-- - Purging expired flows and stale rate-limit windows runs once a minute per instance over
--   tables that hold only live rows; a sequential scan serves it.
ALTER TABLE device_requests DROP CONSTRAINT device_requests_state_hash_key;
CREATE UNIQUE INDEX device_requests_state_hash ON device_requests (state_hash) WHERE state_hash IS NOT NULL;
DROP INDEX device_requests_expires_at;
DROP INDEX rate_limits_window_start;
