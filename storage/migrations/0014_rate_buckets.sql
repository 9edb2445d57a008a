-- Issue 20: platform rate budgets as token buckets in the database. SQLite runs one process,
-- which keeps its buckets in memory; the table is here so that both stores answer the same
-- port (and a deployment can move to PostgreSQL without surprises).
CREATE TABLE rate_buckets (
    scope  TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    -- Seconds since the epoch of the last refill.
    stamp  REAL NOT NULL,
    -- What the last take granted (returned by the same statement that took it).
    taken  INTEGER NOT NULL DEFAULT 0
);
