-- OpenID Connect (issue 15): what a sign-in was, carried from the SSO session through the code
-- into ID tokens, and the client metadata of OpenID Connect Registration/Logout.
--
-- sso_sessions.sid: the session's public id (OIDC Front-/Back-Channel Logout "sid"); random,
-- unrelated to the cookie, so publishing it in ID tokens reveals nothing about the cookie.
-- amr/acr: how the user signed in (RFC 8176 values, space-separated).
ALTER TABLE sso_sessions ADD COLUMN sid TEXT;
ALTER TABLE sso_sessions ADD COLUMN amr TEXT;
ALTER TABLE sso_sessions ADD COLUMN acr TEXT;
CREATE INDEX sso_sessions_sid_idx ON sso_sessions (sid);

-- A code remembers the sign-in it came from (auth_time, sid, amr, acr) and the request's
-- OIDC "claims" parameter (JSON text), for the ID token and userinfo.
ALTER TABLE auth_codes ADD COLUMN auth_time INTEGER;
ALTER TABLE auth_codes ADD COLUMN sid TEXT;
ALTER TABLE auth_codes ADD COLUMN amr TEXT;
ALTER TABLE auth_codes ADD COLUMN acr TEXT;
ALTER TABLE auth_codes ADD COLUMN claims TEXT;

-- Client metadata (OIDC RP-Initiated Logout §3.1, Back-Channel Logout §2.2, Registration §2).
-- post_logout_redirect_uris is a list encoded like redirect_uris.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT;
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT;
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT;
