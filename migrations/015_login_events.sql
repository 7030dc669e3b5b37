-- Every login on the record: one event per flow, written by the statement that ends the flow
-- (denied, cancelled, refused, blocked, delivered, expired, failed), so no event is lost or
-- invented across instances and restarts; and, when webhooks are set, a row in the outbox
-- written by the same statement, which any instance may send (docs/deploy.md, "Audit trail and
-- webhooks").

-- What the end event needs to know of a flow, gathered as it goes.
ALTER TABLE device_requests
  ADD COLUMN browser_network text,  -- the confirming browser's network against the device's: same, different, unknown
  ADD COLUMN code_source text,      -- how the confirmed code reached the page: link (verification_uri_complete) or typed
  ADD COLUMN org_key bytea,         -- HMAC-SHA256 of the organisation id (src/device-flow/organizations.ts)
  ADD COLUMN org_sealed bytea,      -- the organisation id, sealed with a key derived from the client secret
  ADD COLUMN failure text,          -- why its last exchange with the provider failed, if it did
  ADD COLUMN ended_at timestamptz;  -- when its end was recorded in login_events

CREATE TABLE login_events (
  event_id text PRIMARY KEY,
  flow_id text NOT NULL UNIQUE,     -- one event per flow
  at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('delivered', 'denied', 'cancelled', 'refused', 'blocked', 'expired', 'failed')),
  reason text,
  org_key bytea,
  org_sealed bytea,
  client_ip text,
  user_agent text,
  browser_network text,
  code_source text,
  instance text,
  started_at timestamptz NOT NULL,
  keep_until timestamptz NOT NULL   -- AUDIT_RETENTION_DAYS after it happened
);
CREATE INDEX login_events_at ON login_events (at);
CREATE INDEX login_events_org ON login_events (org_key, at) WHERE org_key IS NOT NULL;

-- The transactional outbox of webhooks: a row per event to send, written with the event.
CREATE TABLE webhook_outbox (
  event_id text PRIMARY KEY REFERENCES login_events ON DELETE CASCADE,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  locked_until timestamptz,         -- an instance is sending it (a lease: if that instance dies, another takes it after)
  delivered_to text[] NOT NULL DEFAULT '{}',  -- the endpoints that answered 2xx
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  last_error text
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';

-- Senders on every instance wake at once for a new event, on the channel the flows use.
CREATE FUNCTION webhook_outbox_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('postiz_cli_auth_flows', 'outbox');
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER webhook_outbox_inserted
  AFTER INSERT ON webhook_outbox
  FOR EACH STATEMENT
  EXECUTE FUNCTION webhook_outbox_notify();
