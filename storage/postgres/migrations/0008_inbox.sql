-- The durable inbox (as SQLite's 0011 and 0013): what a platform sent is written here before
-- the platform is told it was received, and deleted once handled. Several processes pump it:
-- a row is leased to one of them (locked_by, locked_until), and a lapsed lease frees it.
CREATE TABLE inbox (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel      text NOT NULL,
    -- A hash of the platform's own id: a redelivery that arrives before the first copy is
    -- handled is stored once.
    dedupe_key   text NOT NULL UNIQUE,
    -- The chat it came from (hashed; '' when unknown): one chat's rows are handled in order.
    chat         text NOT NULL DEFAULT '',
    payload      text NOT NULL,
    received_at  timestamptz NOT NULL,
    locked_by    text,
    locked_until timestamptz
);

CREATE INDEX inbox_channel ON inbox (channel, id);
CREATE INDEX inbox_chat ON inbox (channel, chat, id) WHERE chat <> '';
