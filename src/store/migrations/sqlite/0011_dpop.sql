-- DPoP (RFC 9449), issue 16.
--
-- clients.dpop_bound_access_tokens: the client's token requests must carry a DPoP proof
-- (RFC 9449 §5.2 dpop_bound_access_tokens; Portcullis JSON dpopBoundAccessTokens). 0/1.
-- auth_codes.dpop_jkt: the authorization request's dpop_jkt (§10); the code is redeemed only
-- with a proof by that key. NULL: not bound.
-- refresh_tokens.dpop_jkt: a public client's refresh token is bound to the key of the proof it
-- was issued with (§5); refreshing it needs a proof by that key. NULL: not bound.
-- Used proof jtis live in client_assertion_jtis (key "dpop:<jkt>:<jti>"), like assertion jtis.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_codes ADD COLUMN dpop_jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;
