-- OpenID Connect ID tokens (issue 15): a refresh token remembers the sign-in its grant came from
-- (auth_time, sid, amr, acr) and the authorization request's OIDC "claims" parameter (JSON
-- text), so a refresh issues an ID token with the original auth_time, sid, acr and amr (OpenID
-- Connect Core §12.2) and userinfo still honours the claims request. NULL: none (rows from
-- before this migration, and grants without a sign-in).
ALTER TABLE refresh_tokens ADD COLUMN auth_time INTEGER;
ALTER TABLE refresh_tokens ADD COLUMN sid TEXT;
ALTER TABLE refresh_tokens ADD COLUMN amr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN acr TEXT;
ALTER TABLE refresh_tokens ADD COLUMN claims TEXT;

-- OpenID Connect standard claims the user record did not hold (Core §5.1): email_verified,
-- phone_number (E.164 recommended), phone_number_verified, and address (the JSON text of an
-- OIDC address object: formatted, street_address, locality, region, postal_code, country).
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0 CHECK (email_verified IN (0, 1));
ALTER TABLE users ADD COLUMN phone_number TEXT;
ALTER TABLE users ADD COLUMN phone_number_verified INTEGER NOT NULL DEFAULT 0
  CHECK (phone_number_verified IN (0, 1));
ALTER TABLE users ADD COLUMN address TEXT;
