-- Pushed Authorization Requests (RFC 9126, issue 16).
--
-- pushed_requests: one row per POST /oauth2/par. reference_hash is TokenHash of the random part
-- of the request_uri handed out (the reference itself is never stored); params the validated
-- authorization request, form-encoded. A row is consumed once (used_at set by a conditional
-- update, single winner across instances) when a code is issued from it, and only by its
-- client. Rows are purged some time after expires_at.
CREATE TABLE pushed_requests (
  reference_hash TEXT PRIMARY KEY NOT NULL,
  client_id      TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  params         TEXT NOT NULL,
  created_at     BIGINT NOT NULL,
  expires_at     BIGINT NOT NULL,
  used_at        BIGINT
);
CREATE INDEX pushed_requests_expires_idx ON pushed_requests (expires_at);
CREATE INDEX pushed_requests_client_idx ON pushed_requests (client_id);

-- requirePushedAuthorizationRequests (RFC 9126 §6): 1 refuses plain authorization requests.
ALTER TABLE clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
