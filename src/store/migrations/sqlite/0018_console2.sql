-- The instances a deployment runs (issue 17, console dashboard "instances seen").
--
-- Each serving process writes its row at start and again on every heartbeat (last_seen), and
-- deletes it when it stops cleanly; a row whose last_seen is old belongs to an instance that
-- stopped without saying so (crash, lost store connection) and is shown as stale, then purged.
-- services: space-separated service names; started_at and last_seen: unix seconds.
CREATE TABLE instances (
  instance_id TEXT PRIMARY KEY,
  host        TEXT NOT NULL,
  pid         BIGINT NOT NULL,
  services    TEXT NOT NULL,
  version     TEXT NOT NULL,
  started_at  BIGINT NOT NULL,
  last_seen   BIGINT NOT NULL
);
CREATE INDEX instances_last_seen_idx ON instances (last_seen);
