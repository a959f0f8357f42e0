-- OpenID Connect ID tokens (issue 15): a refresh token remembers the sign-in its grant came from
-- (auth_time, sid, amr, acr) and the authorization request's OIDC "claims" parameter (JSON
-- text), so a refresh issues an ID token with the original auth_time, sid, acr and amr (OpenID
-- Connect Core §12.2) and userinfo still honours the claims request. NULL: none (rows from
-- before this migration, and grants without a sign-in).
ALTER TABLE refresh_tokens ADD COLUMN auth_time BIGINT;
ALTER TABLE refresh_tokens ADD COLUMN sid TEXT;
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN acr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN claims TEXT;
