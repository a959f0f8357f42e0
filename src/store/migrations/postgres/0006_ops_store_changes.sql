-- The SQLite change log (see sqlite/0003_ops_store_changes.sql). PostgreSQL delivers changes
-- with LISTEN/NOTIFY and never writes here; the table exists so both schemas stay alike.
CREATE TABLE store_changes (
  seq    BIGSERIAL PRIMARY KEY,
  origin TEXT NOT NULL,
  kind   TEXT NOT NULL,
  id     TEXT NOT NULL,
  at     BIGINT NOT NULL
);
CREATE INDEX store_changes_at ON store_changes (at);
