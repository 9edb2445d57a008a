-- Issue 20: platform rate budgets shared by every bot process, as token buckets: one row per
-- channel scope, refilled by elapsed time and taken from in one atomic UPDATE ... RETURNING.
CREATE TABLE rate_buckets (
    scope  text PRIMARY KEY,
    tokens double precision NOT NULL,
    -- Seconds since the epoch of the last refill (the database's clock, shared by all hosts).
    stamp  double precision NOT NULL,
    -- What the last take granted (returned by the same statement that took it).
    taken  integer NOT NULL DEFAULT 0
);
