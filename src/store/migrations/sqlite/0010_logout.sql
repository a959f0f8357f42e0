-- OpenID Connect Back-Channel Logout 1.0 (issue 15).
--
-- logout_participants: which clients took part in an SSO session (a code was issued to them
-- within it), so that ending the session notifies them (§2.1 "sid"). One row per session and
-- client; expires with the longest session lifetime and is purged after.
CREATE TABLE logout_participants (
  sid        TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (sid, client_id)
);
CREATE INDEX logout_participants_user_idx ON logout_participants (user_id);
CREATE INDEX logout_participants_expires_idx ON logout_participants (expires_at);

-- logout_outbox: logout tokens still to be delivered, written in the transaction that ends the
-- session and drained by the "logout.deliver" job. A row is claimed by moving next_attempt_at
-- forward with a conditional update (one deliverer per row across instances); it is deleted
-- when delivered, given up or expired.
CREATE TABLE logout_outbox (
  id              TEXT PRIMARY KEY NOT NULL,
  client_id       TEXT NOT NULL,
  sub             TEXT NOT NULL,
  sid             TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL
);
CREATE INDEX logout_outbox_due_idx ON logout_outbox (next_attempt_at);
CREATE INDEX logout_outbox_expires_idx ON logout_outbox (expires_at);
