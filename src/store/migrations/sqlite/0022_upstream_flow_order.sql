-- Open upstream sign-ins per browser are capped (code.upstream_flows_per_browser): beyond it the
-- oldest of that binding cookie's flows goes, so the flows need their order of start (seq, an
-- alias of the rowid: each new row gets a larger one than every row present) and a lookup by
-- binding. SQLite adds no such column in place: the table is rebuilt, rows kept in start order.
CREATE TABLE upstream_flows_0022 (
  seq           INTEGER PRIMARY KEY,
  state_hash    TEXT NOT NULL UNIQUE,
  authenticator TEXT NOT NULL,
  binding_hash  TEXT NOT NULL,
  request       TEXT NOT NULL,
  nonce         TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  expires_at    BIGINT NOT NULL
);
INSERT INTO upstream_flows_0022 (state_hash, authenticator, binding_hash, request, nonce,
                                 code_verifier, expires_at)
  SELECT state_hash, authenticator, binding_hash, request, nonce, code_verifier, expires_at
  FROM upstream_flows ORDER BY expires_at;
DROP TABLE upstream_flows;
ALTER TABLE upstream_flows_0022 RENAME TO upstream_flows;
CREATE INDEX upstream_flows_expires ON upstream_flows (expires_at);
CREATE INDEX upstream_flows_binding ON upstream_flows (binding_hash, seq);
