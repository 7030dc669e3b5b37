-- Flow starts, batched (src/storage/sql-store.ts, createFlowsWithin), as a function: PostgreSQL
-- keeps a PL/pgSQL function's plan for the session, where the same statement sent as text was
-- parsed and planned again for every batch: 1.5-2 ms of every batch on PGlite, 0.2-1 ms on
-- PostgreSQL (docs/performance.md). A function works through any pooler, where a named
-- prepared statement needs PgBouncer 1.21 with max_prepared_statements set.
--
-- $1 is a JSON array of flows with their rate-limit keys, $2 the window in ms, $3 the limit.
-- Per flow: its position n, the count of its key once it is counted (hits, window_start), and
-- whether it was inserted. Windows are counted per key in input order, as one statement per
-- flow would count them; a flow is inserted only when its own count is within the limit. Keys
-- are upserted in sorted order, so concurrent batches lock shared keys in the same order and
-- cannot deadlock. The upsert is the one every rate limit uses (HIT_ALL_SQL in sql-store.ts).
CREATE FUNCTION start_flows(jsonb, integer, integer)
  RETURNS TABLE (n integer, hits integer, window_start timestamptz, created boolean)
  LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1) AS i(
      n int, d text, f text, u text, k text, ip text, ua text, iv int, c timestamptz, e timestamptz, h text, key text)
  ),
  per_key AS (
    SELECT key, max(c) AS now, count(*)::int AS hits FROM input GROUP BY key
  ),
  hit AS (
    INSERT INTO rate_limits AS r (key, window_start, hits)
    SELECT key, now, hits FROM per_key ORDER BY key
    ON CONFLICT (key) DO UPDATE SET
      window_start = CASE WHEN r.window_start <= EXCLUDED.window_start - $2 * interval '1 millisecond'
        THEN EXCLUDED.window_start ELSE r.window_start END,
      hits = CASE WHEN r.window_start <= EXCLUDED.window_start - $2 * interval '1 millisecond'
        THEN EXCLUDED.hits ELSE r.hits + EXCLUDED.hits END
    RETURNING key, window_start, hits
  ),
  ranked AS (
    SELECT input.*, hit.window_start,
      hit.hits - count(*) OVER (PARTITION BY input.key)
        + row_number() OVER (PARTITION BY input.key ORDER BY input.n) AS hits_now
    FROM input JOIN hit ON hit.key = input.key
  ),
  inserted AS (
    INSERT INTO device_requests (device_code_hash, flow_id, user_code_hash, public_key, client_ip,
      user_agent, interval_seconds, created_at, expires_at, holder)
    SELECT decode(d, 'hex'), f, decode(u, 'hex'), decode(k, 'hex'), ip, ua, iv, c, e, h
    FROM ranked WHERE hits_now <= $3
    ON CONFLICT DO NOTHING
    RETURNING flow_id
  )
  SELECT ranked.n, ranked.hits_now::int, ranked.window_start,
    EXISTS (SELECT 1 FROM inserted WHERE inserted.flow_id = ranked.f)
  FROM ranked;
END
$fn$;
