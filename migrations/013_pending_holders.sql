-- Making room at a full MAX_PENDING_FLOWS without reading every live flow (docs/security.md,
-- "Denial of service"): the networks holding flows are found by sampling live flows at random
-- along the primary key, and each sampled network's live flows, and its oldest one, are read
-- through this index: work that grows with the log of the table, not with it.
CREATE INDEX device_requests_pending_holder ON device_requests (holder, created_at) WHERE status = 'pending';
