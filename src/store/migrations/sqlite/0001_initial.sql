-- Portcullis schema, SQLite dialect. Timestamps are unix seconds; JSON is stored as TEXT.
-- Keep in step with ../postgres/0001_initial.sql: same tables, columns, keys and constraints.
-- STRICT tables reject values of the wrong type, as PostgreSQL does; lengths that PostgreSQL
-- enforces with VARCHAR(n) are CHECKs here.

CREATE TABLE users (
  user_id       TEXT PRIMARY KEY NOT NULL CHECK (length(user_id) <= 64),
  user_type     TEXT NOT NULL,
  first_name    TEXT,
  last_name     TEXT,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles         TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
  client_id          TEXT PRIMARY KEY NOT NULL,
  client_type        TEXT NOT NULL
                     CHECK (client_type IN ('public', 'confidential', 'trusted', 'external')),
  client_profile     TEXT NOT NULL,
  client_name        TEXT NOT NULL,
  client_desc        TEXT,
  secret_hash        TEXT,
  scope              TEXT,
  custom_claim       TEXT,
  redirect_uris      TEXT,
  grant_types        TEXT,
  token_profile      TEXT NOT NULL DEFAULT 'rfc9068',
  access_token_ttl   INTEGER,
  auth_method        TEXT NOT NULL DEFAULT 'client_secret_basic',
  jwks               TEXT,
  jwks_uri           TEXT,
  authenticate_class TEXT,
  deref_client_id    TEXT,
  owner_id           TEXT NOT NULL,
  host               TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE services (
  service_id   TEXT PRIMARY KEY NOT NULL,
  service_type TEXT NOT NULL,
  service_name TEXT NOT NULL,
  service_desc TEXT,
  scope        TEXT,
  owner_id     TEXT NOT NULL,
  host         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE service_endpoints (
  service_id TEXT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  endpoint   TEXT NOT NULL,
  operation  TEXT,
  scope      TEXT,
  PRIMARY KEY (service_id, endpoint)
) STRICT;

CREATE TABLE client_endpoints (
  client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  service_id TEXT NOT NULL,
  endpoint   TEXT NOT NULL,
  PRIMARY KEY (client_id, service_id, endpoint),
  FOREIGN KEY (service_id, endpoint)
    REFERENCES service_endpoints (service_id, endpoint) ON DELETE CASCADE
) STRICT;
CREATE INDEX client_endpoints_endpoint_idx ON client_endpoints (service_id, endpoint);

CREATE TABLE refresh_tokens (
  token_hash  TEXT PRIMARY KEY NOT NULL,
  family_id   TEXT NOT NULL,
  client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id     TEXT,
  user_type   TEXT,
  roles       TEXT,
  scope       TEXT,
  remember    TEXT NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N')),
  state       TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'rotated', 'revoked')),
  parent_hash TEXT,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  rotated_at  INTEGER
) STRICT;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_client_idx ON refresh_tokens (client_id);

CREATE TABLE auth_codes (
  code_hash             TEXT PRIMARY KEY NOT NULL,
  client_id             TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id               TEXT,
  user_type             TEXT,
  roles                 TEXT,
  scope                 TEXT,
  redirect_uri          TEXT,
  code_challenge        TEXT,
  code_challenge_method TEXT,
  nonce                 TEXT,
  remember              TEXT NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N')),
  family_id             TEXT,
  created_at            INTEGER NOT NULL,
  expires_at            INTEGER NOT NULL,
  consumed_at           INTEGER
) STRICT;
CREATE INDEX auth_codes_expires_idx ON auth_codes (expires_at);
CREATE INDEX auth_codes_client_idx ON auth_codes (client_id);

CREATE TABLE reference_tokens (
  token_hash      TEXT PRIMARY KEY NOT NULL,
  jwt             TEXT NOT NULL,
  client_id       TEXT,
  deref_client_id TEXT,
  expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX reference_tokens_expires_idx ON reference_tokens (expires_at);

CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

CREATE TABLE client_assertion_jtis (
  jti        TEXT PRIMARY KEY NOT NULL,
  client_id  TEXT,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX client_assertion_jtis_expires_idx ON client_assertion_jtis (expires_at);

CREATE TABLE providers (
  provider_id   TEXT PRIMARY KEY NOT NULL CHECK (length(provider_id) <= 2),
  server_url    TEXT NOT NULL,
  uri           TEXT NOT NULL,
  provider_name TEXT
) STRICT;

CREATE TABLE signing_keys (
  kid             TEXT PRIMARY KEY NOT NULL,
  alg             TEXT NOT NULL,
  state           TEXT NOT NULL
                  CHECK (state IN ('next', 'current', 'previous', 'retired', 'revoked')),
  private_key_enc TEXT,
  public_jwk      TEXT,
  certificate_pem TEXT,
  created_at      INTEGER NOT NULL,
  publish_at      INTEGER,
  activate_at     INTEGER,
  retired_at      INTEGER,
  expires_at      INTEGER
) STRICT;

CREATE TABLE consents (
  user_id    TEXT NOT NULL,
  client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope      TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id)
) STRICT;
CREATE INDEX consents_client_idx ON consents (client_id);

CREATE TABLE sso_sessions (
  session_hash TEXT PRIMARY KEY NOT NULL,
  user_id      TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  remember     TEXT NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N'))
) STRICT;
CREATE INDEX sso_sessions_user_idx ON sso_sessions (user_id);
CREATE INDEX sso_sessions_expires_idx ON sso_sessions (expires_at);

CREATE TABLE delegation_policies (
  client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  audience  TEXT NOT NULL,
  scopes    TEXT,
  max_depth INTEGER,
  PRIMARY KEY (client_id, audience)
) STRICT;

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,
  actor       TEXT,
  action      TEXT NOT NULL,
  entity_kind TEXT,
  entity_id   TEXT,
  before_json TEXT,
  after_json  TEXT
) STRICT;
CREATE INDEX audit_log_entity_idx ON audit_log (entity_kind, entity_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Named locks for scheduled jobs (the SQLite stand-in for PostgreSQL advisory locks):
-- take with INSERT ... ON CONFLICT (name) DO UPDATE ... WHERE job_locks.expires_at < now.
CREATE TABLE job_locks (
  name       TEXT PRIMARY KEY NOT NULL,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
