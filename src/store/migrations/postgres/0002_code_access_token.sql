-- The access token issued from a code, so that a replayed code can revoke it (RFC 6749 §4.1.2,
-- RFC 9700 §4.5.3): its jti goes on the deny-list until it expires.
ALTER TABLE auth_codes ADD COLUMN access_jti TEXT;
ALTER TABLE auth_codes ADD COLUMN access_exp BIGINT;
