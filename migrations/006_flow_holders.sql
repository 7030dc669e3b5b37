-- The network a flow was started from (the key its flow-start limit counts under), so that a
-- full MAX_PENDING_FLOWS can take a place from whoever holds the most (docs/security.md,
-- "Denial of service").
ALTER TABLE device_requests ADD COLUMN holder text;

-- A flow given up to make room is ended by moving its expiry to now: tell every instance, as
-- for a change of status, so none answers "pending" for it from memory.
DROP TRIGGER device_requests_status_changed ON device_requests;
CREATE TRIGGER device_requests_status_changed
  AFTER UPDATE OF status, expires_at ON device_requests
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR NEW.expires_at < OLD.expires_at)
  EXECUTE FUNCTION device_requests_notify();
