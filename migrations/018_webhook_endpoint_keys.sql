-- The webhook outbox no longer holds endpoints' URLs, which may carry a receiver's secret (a
-- password, a query-string key, or a key in the path). The sender now records an endpoint that
-- took an event by the hex SHA-256 of its URL as configured (src/webhooks/endpoint.ts): the
-- URLs already recorded become the same hashes, so events still pending go only to the
-- endpoints that lack them.
UPDATE webhook_outbox
SET delivered_to = ARRAY(
  SELECT encode(sha256(convert_to(url, 'UTF8')), 'hex')
  FROM unnest(delivered_to) WITH ORDINALITY AS recorded(url, n)
  ORDER BY n
)
WHERE delivered_to <> '{}';

-- last_error named each failing endpoint by its origin and path (`https://host/path: HTTP 503`),
-- and a path may be the secret: keep the origin and the cause. (The tag the sender now adds
-- cannot be computed from what is left.)
UPDATE webhook_outbox
SET last_error = regexp_replace(last_error, '(https?://[^/\s]+)/\S*: ', '\1: ', 'g')
WHERE last_error ~ 'https?://';
