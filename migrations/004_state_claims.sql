-- A callback's `state` is claimed by marking it, no longer by clearing it: until the flow
-- ends, a second copy of the same callback (a reload, a double request, on any instance)
-- still finds its flow and can tell "the confirming browser, already being handled" (leave
-- its code alone: the first copy is using it) from "unknown" (burn the code,
-- docs/security.md). Approving or denying the flow clears both columns, as before.
ALTER TABLE device_requests ADD COLUMN state_claimed_at timestamptz;
