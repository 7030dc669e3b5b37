-- Broadcast every change of a flow's status (and its deletion: claimed, or purged) to every
-- instance through LISTEN/NOTIFY, so a held poll answers at once and cached "pending" answers
-- are dropped the moment they stop being true, whichever instance made the change.
-- Payload: the device-code hash in hex, a colon, and the new status (or "deleted").
CREATE FUNCTION device_requests_notify() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('postiz_cli_auth_flows', encode(OLD.device_code_hash, 'hex') || ':deleted');
    RETURN OLD;
  END IF;
  PERFORM pg_notify('postiz_cli_auth_flows', encode(NEW.device_code_hash, 'hex') || ':' || NEW.status);
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER device_requests_status_changed
  AFTER UPDATE OF status ON device_requests
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION device_requests_notify();

CREATE TRIGGER device_requests_deleted
  AFTER DELETE ON device_requests
  FOR EACH ROW
  EXECUTE FUNCTION device_requests_notify();
