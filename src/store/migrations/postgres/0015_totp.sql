-- The second factor (issue 18): TOTP (RFC 6238) and recovery codes, for local users.
--
-- user_totp: one enrolment per user. secret_sealed is the TOTP secret sealed with the master
-- key (AES-256-GCM, kid "totp:<user_id>"); active is 0 until a first valid code confirms the
-- enrolment; last_step is the last 30-second step a code was accepted for (-1: none), which
-- makes each code single-use (UPDATE ... WHERE last_step < step).
-- user_recovery_codes: keyed digests (HMAC-SHA-256 under the pepper) of the recovery codes;
-- used_at is set once, by a conditional update.
CREATE TABLE user_totp (
  user_id       TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
  secret_sealed TEXT NOT NULL,
  active        INTEGER NOT NULL DEFAULT 0,
  last_step     BIGINT NOT NULL DEFAULT -1,
  created_at    BIGINT NOT NULL
);
CREATE TABLE user_recovery_codes (
  user_id   TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
  code_hash TEXT NOT NULL,
  used_at   BIGINT,
  PRIMARY KEY (user_id, code_hash)
);
