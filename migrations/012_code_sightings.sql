-- The record of every provider code that reached /device/callback (migration 005), made compact
-- so that a flood of junk codes costs a bounded, small amount of space (docs/security.md, "How
-- big the record can grow"): the key is the first 128 bits of the code's SHA-256, the count and
-- the first-seen time are dropped (nothing needs them), and rows are kept 15 minutes instead of
-- an hour (codes live 10 minutes at Postiz). The rule is unchanged: a code first seen at a
-- refused callback (flow_id NULL) is never exchanged; one first seen at a flow's accepted
-- callback only ever for that flow. The sightings of the old table are carried over.
CREATE TABLE code_sightings (
  code_key bytea PRIMARY KEY,
  flow_id text,
  expires_at timestamptz NOT NULL
);

INSERT INTO code_sightings (code_key, flow_id, expires_at)
SELECT DISTINCT ON (substring(code_hash FROM 1 FOR 16)) substring(code_hash FROM 1 FOR 16), flow_id, expires_at
FROM postiz_codes
ORDER BY substring(code_hash FROM 1 FOR 16), first_seen_at;

DROP TABLE postiz_codes;
