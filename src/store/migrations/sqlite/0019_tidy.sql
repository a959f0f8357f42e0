-- One name in two realms (README "Enterprise sign-in: one name in two realms"): a local account
-- and a directory account with the same user id are two people.
--
-- consents.realm: the authenticator that signed the user in, as SSO sessions are keyed ('' for
-- the built-in user store, else the configured authenticator's name). What one realm's user
-- agreed to is not another's consent. Rows from before are the user store's. SQLite cannot
-- change a primary key in place: the table is rebuilt.
CREATE TABLE consents_0018 (
  realm      TEXT NOT NULL DEFAULT '',
  user_id    TEXT NOT NULL,
  client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  scope      TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (realm, user_id, client_id)
) STRICT;
-- A row whose client signs in with another authenticator (authenticate_class other than the
-- built-in store's names, AuthenticatorRegistry::AddDefault) was given by a directory user: it is
-- not the local account's, and which realm it was is not recorded, so it goes (the user consents
-- again).
INSERT INTO consents_0018 (realm, user_id, client_id, scope, created_at)
  SELECT '', user_id, client_id, scope, created_at FROM consents
  WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = consents.client_id
    AND c.authenticate_class IS NOT NULL
    AND c.authenticate_class NOT IN ('', 'default', 'com.networknt.oauth.auth.DefaultAuth',
      'com.networknt.oauth.auth.DefaultAuthenticator',
      'com.networknt.oauth.auth.Authenticator<com.networknt.oauth.auth.DefaultAuth>'));
DROP TABLE consents;
ALTER TABLE consents_0018 RENAME TO consents;
CREATE INDEX consents_client_idx ON consents (client_id);
CREATE INDEX consents_user_idx ON consents (user_id);

-- refresh_tokens.user_source also admits 'authenticator:<realm>' (a user signed in by that
-- configured authenticator, e.g. LDAP), which rows recorded as 'client' before: a refresh then
-- still knows which realm's user it is (userinfo, README above). Rebuilt for the CHECK.
CREATE TABLE refresh_tokens_0018 (
  token_hash      TEXT PRIMARY KEY NOT NULL,
  family_id       TEXT NOT NULL,
  client_id       TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
  user_id         TEXT,
  user_type       TEXT,
  roles           TEXT,
  scope           TEXT,
  remember        TEXT NOT NULL DEFAULT 'N' CHECK (remember IN ('Y', 'N')),
  state           TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'rotated', 'revoked')),
  parent_hash     TEXT,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  rotated_at      INTEGER,
  user_source     TEXT CHECK (user_source IS NULL OR user_source IN ('users', 'client')
                              OR user_source LIKE 'authenticator:_%'),
  auth_time       INTEGER,
  sid             TEXT,
  amr             TEXT,
  acr             TEXT,
  claims          TEXT,
  dpop_jkt        TEXT,
  cert_thumbprint TEXT
) STRICT;
INSERT INTO refresh_tokens_0018 (token_hash, family_id, client_id, user_id, user_type, roles,
    scope, remember, state, parent_hash, created_at, expires_at, rotated_at, user_source,
    auth_time, sid, amr, acr, claims, dpop_jkt, cert_thumbprint)
  SELECT token_hash, family_id, client_id, user_id, user_type, roles, scope, remember, state,
    parent_hash, created_at, expires_at, rotated_at, user_source, auth_time, sid, amr, acr,
    claims, dpop_jkt, cert_thumbprint FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_0018 RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
CREATE INDEX refresh_tokens_client_idx ON refresh_tokens (client_id);
-- Rows of a client that signs in with a configured authenticator, recorded as 'client' before,
-- name that realm now: the authenticate_class, as UserSourceOf names it when the class is the
-- authenticator's own name (a class that is an alias still names a realm, so userinfo keeps the
-- local account's profile out). A trusted client's assertion of such a client gets it too:
-- userinfo then answers sub only, as for any user not of the user store.
UPDATE refresh_tokens
  SET user_source = 'authenticator:' || (SELECT c.authenticate_class FROM clients c
                                         WHERE c.client_id = refresh_tokens.client_id)
  WHERE user_source = 'client'
    AND EXISTS (SELECT 1 FROM clients c WHERE c.client_id = refresh_tokens.client_id
                AND c.authenticate_class IS NOT NULL
                AND c.authenticate_class NOT IN ('', 'default', 'com.networknt.oauth.auth.DefaultAuth',
      'com.networknt.oauth.auth.DefaultAuthenticator',
      'com.networknt.oauth.auth.Authenticator<com.networknt.oauth.auth.DefaultAuth>'));

-- device_grants.user_source: where the approving user was signed in, as auth_codes.user_source
-- (0017): 'users', 'authenticator:<realm>', or NULL (a chain, or rows from before).
ALTER TABLE device_grants ADD COLUMN user_source TEXT;
