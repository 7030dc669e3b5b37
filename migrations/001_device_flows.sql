-- The seed's original server kept device codes and access tokens in plain text in a
-- `device_requests` table keyed by `device_code`. Its rows live 15 minutes at most, so they
-- are discarded rather than carried over: a login in progress during the upgrade simply
-- starts again, and no readable token survives the upgrade.
DO $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'device_requests' AND column_name = 'device_code'
  ) THEN
    DROP TABLE device_requests;
  END IF;
END
$$;

-- One row per device flow. No column holds a secret that can be used: codes and state are
-- SHA-256 hashes, the token is sealed to a key only the CLI holds (docs/security.md).
CREATE TABLE device_requests (
  device_code_hash bytea PRIMARY KEY,
  flow_id text NOT NULL UNIQUE,                 -- not a secret: names the flow in logs
  user_code_hash bytea NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'approved', 'denied', 'cancelled')),
  public_key bytea NOT NULL,                    -- X25519 key the token is sealed to
  client_ip text,
  user_agent text,
  interval_seconds integer NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  last_poll_at timestamptz,
  state_hash bytea UNIQUE,                      -- set when the user confirms, cleared when the callback claims it
  browser_hash bytea,                           -- the confirming browser's cookie, hashed
  sealed_token bytea,
  finished_at timestamptz
);

CREATE INDEX device_requests_expires_at ON device_requests (expires_at);

-- Fixed-window counters shared by every instance (guessing and flooding limits).
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  hits integer NOT NULL
);

CREATE INDEX rate_limits_window_start ON rate_limits (window_start);
