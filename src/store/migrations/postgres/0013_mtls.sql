-- Mutual-TLS client authentication and certificate-bound tokens (RFC 8705, issue 16).
--
-- tls_subject_kind / tls_subject: the one certificate name a tls_client_auth client registered
-- (RFC 8705 §2.1.2): subject_dn, san_dns, san_uri, san_ip or san_email, and its value.
-- tls_bound_tokens: tls_client_certificate_bound_access_tokens (§3.4), which makes a
-- certificate mandatory at the token endpoint.
ALTER TABLE clients ADD COLUMN tls_subject_kind TEXT;
ALTER TABLE clients ADD COLUMN tls_subject TEXT;
ALTER TABLE clients ADD COLUMN tls_bound_tokens INTEGER NOT NULL DEFAULT 0;

-- refresh_tokens.cert_thumbprint: a public client's refresh token is bound to the certificate
-- (x5t#S256) it was issued over (RFC 8705 §4); NULL: not bound.
ALTER TABLE refresh_tokens ADD COLUMN cert_thumbprint TEXT;
