-- Issue 13: the durable inbox. What a platform sent is written here before the platform is
-- told it was received, and deleted once handled: a restart handles what is left.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    channel     TEXT NOT NULL,
    -- A hash of the platform's own id (Telegram update id, Meta body): a redelivery that
    -- arrives before the first copy is handled is stored once.
    dedupe_key  TEXT NOT NULL UNIQUE,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL
);
