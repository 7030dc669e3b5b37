-- The webhook outbox no longer holds endpoints' URLs, which may carry a receiver's secret (a
-- password, a query-string key, or a key in the path). The sender now records an endpoint that
-- took an event by a hash of its URL keyed with WEBHOOK_SECRET (src/webhooks/endpoint.ts),
-- which SQL cannot compute: the URLs already recorded are dropped. An event still pending is
-- then sent again to every endpoint, under the same webhook-id (delivery is at least once);
-- for events delivered or given up, the list is no longer read.
UPDATE webhook_outbox SET delivered_to = '{}' WHERE delivered_to <> '{}';

-- last_error named each failing endpoint by its origin and path (`https://host/path: HTTP 503`),
-- and a path may be the secret: keep the origin and the cause.
UPDATE webhook_outbox
SET last_error = regexp_replace(last_error, '(https?://[^/\s]+)/\S*: ', '\1: ', 'g')
WHERE last_error ~ 'https?://';
