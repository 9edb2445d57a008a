-- Issue 13: a send whose outcome is unknown (a timeout, or a crash while it was in flight)
-- may have reached the person; counted as a possible duplicate once sent again.
ALTER TABLE outbox ADD COLUMN uncertain INTEGER NOT NULL DEFAULT 0;
