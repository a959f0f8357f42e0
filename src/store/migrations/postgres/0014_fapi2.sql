-- The per-client FAPI 2.0 profile (issue 16, README "FAPI 2.0 profile").
--
-- security_profile: the client's JSON `profile`; NULL: none, 'fapi2': the FAPI 2.0 Security
-- Profile's rules (PAR, PKCE S256, sender-constrained tokens, private_key_jwt or mTLS, no RS256,
-- codes of at most 60 s, no refresh-token rotation).
ALTER TABLE clients ADD COLUMN security_profile TEXT;
