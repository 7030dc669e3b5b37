-- A login Postiz refuses to serve ends with a status of its own, which the CLI's poll turns into
-- an error it prints: the organisation has no subscription, or Postiz refused the new token.
ALTER TABLE device_requests DROP CONSTRAINT device_requests_status_check;
ALTER TABLE device_requests ADD CONSTRAINT device_requests_status_check
  CHECK (status IN ('pending', 'approved', 'delivered', 'denied', 'cancelled', 'no_subscription', 'token_refused'));

-- The last CLI login delivered for each Postiz organisation, so the next login can say which one
-- it replaced (Postiz keeps one token per app, user and organisation). The organisation is known
-- only by a keyed hash: HMAC-SHA256 of its id, keyed from the OAuth app's client secret, so a
-- copy of the database alone does not tell which organisation a row is about. Deleted after
-- LOGIN_HISTORY_DAYS (docs/security.md, "What is stored").
CREATE TABLE org_logins (
  org_key bytea PRIMARY KEY,
  delivered_at timestamptz NOT NULL,
  client_ip text,
  user_agent text,
  expires_at timestamptz NOT NULL
);
