-- Every Postiz authorization code that reaches /device/callback, by its SHA-256, and the flow
-- whose accepted callback first carried it (NULL: it was first seen at a refused callback).
-- Only this server holds the client secret, so a code it refuses to exchange is worthless:
-- a code first seen at a refused callback is never exchanged for any flow, one first seen at a
-- flow's accepted callback only ever for that flow, on every instance (docs/security.md, "A
-- Postiz code belongs to the first callback that carries it"). Rows outlive the code at Postiz
-- (10 minutes) and are then purged.
CREATE TABLE postiz_codes (
  code_hash bytea PRIMARY KEY,
  flow_id text,
  sightings integer NOT NULL,
  first_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
