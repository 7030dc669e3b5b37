-- The webhook outbox of migrations/015, made cheaper to watch.

-- The outbox's notification (migrations/015) only when the statement queued something: a
-- statement-level trigger fires for every INSERT statement, and every statement that ends a flow
-- runs one into webhook_outbox, which inserts nothing when webhooks are off. Without this, every
-- flow's end (and every purge) woke the webhook senders of every instance for nothing.
CREATE OR REPLACE FUNCTION webhook_outbox_notify() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM queued) THEN
    PERFORM pg_notify('postiz_cli_auth_flows', 'outbox');
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER webhook_outbox_inserted ON webhook_outbox;
CREATE TRIGGER webhook_outbox_inserted
  AFTER INSERT ON webhook_outbox
  REFERENCING NEW TABLE AS queued
  FOR EACH STATEMENT
  EXECUTE FUNCTION webhook_outbox_notify();

-- The outbox gauge counts pending and failed events at every scrape of every instance: each
-- through a partial index, instead of a scan of the delivered events kept AUDIT_RETENTION_DAYS.
CREATE INDEX webhook_outbox_failed ON webhook_outbox (event_id) WHERE state = 'failed';
