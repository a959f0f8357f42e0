-- A client's own second-factor rule (issue 18, README "Second factor (TOTP)"): the client JSON's
-- `secondFactor`. NULL (or 'optional'): only users who have a second factor need one here;
-- 'required': every user needs one (users without one enrol during sign-in), as for a client
-- listed in code.second_factor_clients.
ALTER TABLE clients ADD COLUMN second_factor TEXT;

-- Second factors of users of other authenticators (LDAP): user_totp.user_id becomes the
-- enrolment key (the local user id, or "<realm>:<user id>": local ids have no ':', so a local
-- and a directory user of one name never share an enrolment). Only local users' rows reference
-- users (local_user_id, NULL for a directory user), and go with them; recovery codes go with
-- their enrolment. The tables are rebuilt to drop the old foreign keys; rows are kept.
CREATE TABLE totp_0018 AS SELECT user_id, secret_sealed, active, last_step, created_at
  FROM user_totp;
CREATE TABLE codes_0018 AS SELECT user_id, code_hash, used_at FROM user_recovery_codes;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
CREATE TABLE user_totp (
  user_id       TEXT PRIMARY KEY,
  local_user_id TEXT REFERENCES users (user_id) ON DELETE CASCADE,
  secret_sealed TEXT NOT NULL,
  active        INTEGER NOT NULL DEFAULT 0,
  last_step     BIGINT NOT NULL DEFAULT -1,
  created_at    BIGINT NOT NULL
);
CREATE INDEX user_totp_local_user ON user_totp (local_user_id);
CREATE TABLE user_recovery_codes (
  user_id   TEXT NOT NULL REFERENCES user_totp (user_id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at   BIGINT,
  PRIMARY KEY (user_id, code_hash)
);
INSERT INTO user_totp (user_id, local_user_id, secret_sealed, active, last_step, created_at)
  SELECT user_id, user_id, secret_sealed, active, last_step, created_at FROM totp_0018;
INSERT INTO user_recovery_codes (user_id, code_hash, used_at)
  SELECT c.user_id, c.code_hash, c.used_at FROM codes_0018 c
  WHERE EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = c.user_id);
DROP TABLE codes_0018;
DROP TABLE totp_0018;
