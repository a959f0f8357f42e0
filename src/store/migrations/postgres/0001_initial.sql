-- Portcullis schema, PostgreSQL dialect. Timestamps are unix seconds; JSON is stored as TEXT.
-- Keep in step with ../sqlite/0001_initial.sql: same tables, columns, keys and constraints.

CREATE TABLE users (
  user_id       VARCHAR(64) PRIMARY KEY NOT NULL,
  user_type     TEXT NOT NULL,
  first_name    TEXT,
  last_name     TEXT,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  roles         TEXT,
  created_at    BIGINT NOT NULL,
  updated_at    BIGINT NOT NULL
);

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
  access_token_ttl   BIGINT,
  auth_method        TEXT NOT NULL DEFAULT 'client_secret_basic',
  jwks               TEXT,
  jwks_uri           TEXT,
  authenticate_class TEXT,
  deref_client_id    TEXT,
  owner_id           TEXT NOT NULL,
  host               TEXT NOT NULL,
  created_at         BIGINT NOT NULL,
  updated_at         BIGINT NOT NULL
);

CREATE TABLE services (
  service_id   TEXT PRIMARY KEY NOT NULL,
  service_type TEXT NOT NULL,
  service_name TEXT NOT NULL,
  service_desc TEXT,
  scope        TEXT,
  owner_id     TEXT NOT NULL,
  host         TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  updated_at   BIGINT NOT NULL
);

CREATE TABLE service_endpoints (
  service_id TEXT NOT NULL REFERENCES services (service_id) ON DELETE CASCADE,
  endpoint   TEXT NOT NULL,
  operation  TEXT,
  scope      TEXT,
  PRIMARY KEY (service_id, endpoint)
);

CREATE TABLE client_endpoints (
  client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  service_id TEXT NOT NULL,
  endpoint   TEXT NOT NULL,
  PRIMARY KEY (client_id, service_id, endpoint),
  FOREIGN KEY (service_id, endpoint)
    REFERENCES service_endpoints (service_id, endpoint) ON DELETE CASCADE
);
CREATE INDEX client_endpoints_endpoint_idx ON client_endpoints (service_id, endpoint);

CREATE TABLE refresh_tokens (
  token_hash  TEXT PRIMARY KEY NOT NULL,
  family_id   TEXT NOT NULL,
  client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id     TEXT,
  user_type   TEXT,
  roles       TEXT,
  scope       TEXT,
  remember    CHAR(1) NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N')),
  state       TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'rotated', 'revoked')),
  parent_hash TEXT,
  created_at  BIGINT NOT NULL,
  expires_at  BIGINT NOT NULL,
  rotated_at  BIGINT
);
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
  remember              CHAR(1) NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N')),
  family_id             TEXT,
  created_at            BIGINT NOT NULL,
  expires_at            BIGINT NOT NULL,
  consumed_at           BIGINT
);
CREATE INDEX auth_codes_expires_idx ON auth_codes (expires_at);
CREATE INDEX auth_codes_client_idx ON auth_codes (client_id);

CREATE TABLE reference_tokens (
  token_hash      TEXT PRIMARY KEY NOT NULL,
  jwt             TEXT NOT NULL,
  client_id       TEXT,
  deref_client_id TEXT,
  expires_at      BIGINT NOT NULL
);
CREATE INDEX reference_tokens_expires_idx ON reference_tokens (expires_at);

CREATE TABLE revoked_tokens (
  jti        TEXT PRIMARY KEY NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expires_idx ON revoked_tokens (expires_at);

CREATE TABLE client_assertion_jtis (
  jti        TEXT PRIMARY KEY NOT NULL,
  client_id  TEXT,
  expires_at BIGINT NOT NULL
);
CREATE INDEX client_assertion_jtis_expires_idx ON client_assertion_jtis (expires_at);

CREATE TABLE providers (
  provider_id   VARCHAR(2) PRIMARY KEY NOT NULL,
  server_url    TEXT NOT NULL,
  uri           TEXT NOT NULL,
  provider_name TEXT
);

CREATE TABLE signing_keys (
  kid             TEXT PRIMARY KEY NOT NULL,
  alg             TEXT NOT NULL,
  state           TEXT NOT NULL
                  CHECK (state IN ('next', 'current', 'previous', 'retired', 'revoked')),
  private_key_enc TEXT,
  public_jwk      TEXT,
  certificate_pem TEXT,
  created_at      BIGINT NOT NULL,
  publish_at      BIGINT,
  activate_at     BIGINT,
  retired_at      BIGINT,
  expires_at      BIGINT
);

CREATE TABLE consents (
  user_id    TEXT NOT NULL,
  client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope      TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_idx ON consents (client_id);

CREATE TABLE sso_sessions (
  session_hash TEXT PRIMARY KEY NOT NULL,
  user_id      TEXT NOT NULL,
  created_at   BIGINT NOT NULL,
  expires_at   BIGINT NOT NULL,
  remember     CHAR(1) NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N'))
);
CREATE INDEX sso_sessions_user_idx ON sso_sessions (user_id);
CREATE INDEX sso_sessions_expires_idx ON sso_sessions (expires_at);

CREATE TABLE delegation_policies (
  client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  audience  TEXT NOT NULL,
  scopes    TEXT,
  max_depth BIGINT,
  PRIMARY KEY (client_id, audience)
);

CREATE TABLE audit_log (
  id          BIGSERIAL PRIMARY KEY,
  at          BIGINT NOT NULL,
  actor       TEXT,
  action      TEXT NOT NULL,
  entity_kind TEXT,
  entity_id   TEXT,
  before_json TEXT,
  after_json  TEXT
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_kind, entity_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Named locks for scheduled jobs; on PostgreSQL advisory locks serve too, this table keeps
-- one code path for both dialects.
CREATE TABLE job_locks (
  name       TEXT PRIMARY KEY NOT NULL,
  holder     TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
