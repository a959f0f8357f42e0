-- Change log for SQLite. A process cannot see another process's in-memory notifications, so
-- Tx::Notify also appends a row here inside the writer's transaction; every serving process
-- polls `PRAGMA data_version` and, when another connection has committed, reads the rows after
-- the last one it saw and delivers those written by other processes (origin) to its
-- subscribers. AUTOINCREMENT: a sequence number is never reused after pruning, so a reader
-- cannot mistake a new row for one it has already seen.
CREATE TABLE store_changes (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  kind   TEXT NOT NULL,
  id     TEXT NOT NULL,
  at     INTEGER NOT NULL
);
CREATE INDEX store_changes_at ON store_changes (at);
