-- Where the user behind a code was signed in (README "Enterprise sign-in: Kerberos / SPNEGO"):
-- 'users' (the built-in user store) or 'authenticator:<realm>' (LDAP and other configured
-- authenticators). The token endpoint reads the user again only from the user store, and only
-- for 'users' (or NULL: codes from before the column, read again as before), so a same-named
-- local account never lends its roles to a directory user.
ALTER TABLE auth_codes ADD COLUMN user_source TEXT;
