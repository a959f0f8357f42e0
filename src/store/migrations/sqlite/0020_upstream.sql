-- Upstream OpenID Connect providers (issue 18, "Sign in with ..."; README "Upstream OpenID
-- Connect providers").
--
-- upstream_flows: one row per started sign-in, keyed by the SHA-256 of its state (never the
-- state itself), removed when the callback takes it (DELETE ... RETURNING: one winner) or when
-- it expires. binding_hash is the SHA-256 of the browser's binding cookie; request is the
-- authorization request to continue.
-- upstream_links: which local account an upstream identity (authenticator, sub) signs in as;
-- created is 1 when the account was made for the link (just in time). The link goes with the
-- user.
CREATE TABLE upstream_flows (
  state_hash    TEXT PRIMARY KEY,
  authenticator TEXT NOT NULL,
  binding_hash  TEXT NOT NULL,
  request       TEXT NOT NULL,
  nonce         TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX upstream_flows_expires ON upstream_flows (expires_at);
CREATE TABLE upstream_links (
  authenticator TEXT NOT NULL,
  subject       TEXT NOT NULL,
  user_id       TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  created       INTEGER NOT NULL DEFAULT 0,
  created_at    BIGINT NOT NULL,
  PRIMARY KEY (authenticator, subject)
);
CREATE INDEX upstream_links_user ON upstream_links (user_id);
