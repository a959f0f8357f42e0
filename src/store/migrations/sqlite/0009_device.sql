-- The device authorization grant (RFC 8628): one row per device_authorization request.
-- device_code_hash: TokenHash(device_code); user_code_hash: keyed hash of the normalised user
-- code (oauth/device/user_code.h). Neither code is stored. state: pending -> approved | denied
-- (the user) -> consumed (the token endpoint); both steps are conditional updates.
-- interval/last_poll_at: RFC 8628 §3.5 slow_down accounting. user_* and the sign-in facts are
-- set when the user approves.
CREATE TABLE device_grants (
  device_code_hash TEXT PRIMARY KEY NOT NULL,
  user_code_hash   TEXT NOT NULL UNIQUE,
  client_id        TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope            TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'approved', 'denied', 'consumed')),
  user_id          TEXT,
  user_type        TEXT,
  roles            TEXT,
  auth_time        BIGINT,
  sid              TEXT,
  amr              TEXT,
  acr              TEXT,
  created_at       BIGINT NOT NULL,
  expires_at       BIGINT NOT NULL,
  poll_interval    BIGINT NOT NULL,
  last_poll_at     BIGINT,
  decided_at       BIGINT
);
CREATE INDEX device_grants_expires_idx ON device_grants (expires_at);
CREATE INDEX device_grants_client_idx ON device_grants (client_id);
