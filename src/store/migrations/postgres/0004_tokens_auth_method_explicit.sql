-- Whether the client registered its token endpoint auth method (RFC 7591 §2
-- token_endpoint_auth_method). A client that named one is held to it; one that did not accepts
-- client_secret_basic and client_secret_post, as light-oauth2 clients do. Rows written before
-- this column existed: the default was client_secret_basic, so any other method was named.
ALTER TABLE clients ADD COLUMN auth_method_explicit INTEGER NOT NULL DEFAULT 0;
UPDATE clients SET auth_method_explicit = 1 WHERE auth_method <> 'client_secret_basic';
