-- A locked account signs in nowhere and its grants are ended (oauth/refresh/grant_revocation.h).
ALTER TABLE users ADD COLUMN locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1));
-- Where a refresh token's user came from: 'users' (the user store: password grant, code flow;
-- a refresh reads the user again and fails once they are gone or locked), 'client' (asserted by
-- a trusted client: client_authenticated_user), NULL (rows made before this column).
ALTER TABLE refresh_tokens ADD COLUMN user_source TEXT
  CHECK (user_source IS NULL OR user_source IN ('users', 'client'));
