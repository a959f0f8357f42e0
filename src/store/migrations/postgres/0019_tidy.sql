-- One name in two realms (README "Enterprise sign-in: one name in two realms"): a local account
-- and a directory account with the same user id are two people.
--
-- consents.realm: the authenticator that signed the user in, as SSO sessions are keyed ('' for
-- the built-in user store, else the configured authenticator's name). What one realm's user
-- agreed to is not another's consent. Rows from before are the user store's.
-- A row whose client signs in with another authenticator (authenticate_class other than the
-- built-in store's names, AuthenticatorRegistry::AddDefault) was given by a directory user: it is
-- not the local account's, and which realm it was is not recorded, so it goes (the user consents
-- again).
DELETE FROM consents WHERE EXISTS (SELECT 1 FROM clients c WHERE c.client_id = consents.client_id
    AND c.authenticate_class IS NOT NULL
    AND c.authenticate_class NOT IN ('', 'default', 'com.networknt.oauth.auth.DefaultAuth',
      'com.networknt.oauth.auth.DefaultAuthenticator',
      'com.networknt.oauth.auth.Authenticator<com.networknt.oauth.auth.DefaultAuth>'));
ALTER TABLE consents ADD COLUMN realm TEXT NOT NULL DEFAULT '';
ALTER TABLE consents DROP CONSTRAINT consents_pkey;
ALTER TABLE consents ADD PRIMARY KEY (realm, user_id, client_id);
CREATE INDEX consents_user_idx ON consents (user_id);

-- refresh_tokens.user_source also admits 'authenticator:<realm>' (a user signed in by that
-- configured authenticator, e.g. LDAP), which rows recorded as 'client' before: a refresh then
-- still knows which realm's user it is (userinfo, README above).
ALTER TABLE refresh_tokens DROP CONSTRAINT refresh_tokens_user_source_check;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_user_source_check
  CHECK (user_source IS NULL OR user_source IN ('users', 'client')
         OR user_source LIKE 'authenticator:_%');
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
