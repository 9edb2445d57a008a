-- Public information campaigns. Who receives one is not a table of its own: each recipient is
-- one outbox row of kind 'campaign' whose dedupe key is 'campaign:NAME:USER_KEY' (UNIQUE), so a
-- send killed and started again never writes a second row for anyone.

CREATE TABLE campaigns (
    name        TEXT PRIMARY KEY,
    status      TEXT NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'sending', 'done', 'cancelled')),
    -- Fingerprint of the message: a resumed send must send what the first one did.
    digest      TEXT NOT NULL,
    -- The campaign file as validated (JSON), for the record.
    definition  TEXT NOT NULL,
    audience    INTEGER NOT NULL DEFAULT 0,
    enqueued    INTEGER NOT NULL DEFAULT 0,
    excluded    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    -- When every recipient had an outbox row (the send command finished).
    enqueued_at TEXT,
    finished_at TEXT
);

-- New users counted per deep-link code ('c-NAME').
CREATE INDEX users_entry_source ON users (entry_source);
