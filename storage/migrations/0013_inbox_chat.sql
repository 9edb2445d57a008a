-- Issue 20: the chat an inbound came from (hashed), so that pumps keep one chat's inbounds
-- in arrival order. Rows stored before this migration have none: they are handled in order.
ALTER TABLE inbox ADD COLUMN chat TEXT NOT NULL DEFAULT '';
