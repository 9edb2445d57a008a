-- Users, their conversation state, processed inbound ids and the outbox.
-- Text ids, UTC ISO timestamps, JSON as TEXT: portable to PostgreSQL behind the same ports.

CREATE TABLE users (
    key             TEXT PRIMARY KEY,
    channel         TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    language        TEXT,
    region          TEXT,
    commune         TEXT,
    age_group       TEXT,
    gender          TEXT,
    contact_consent INTEGER NOT NULL DEFAULT 0,
    stopped         INTEGER NOT NULL DEFAULT 0,
    entry_source    TEXT,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    last_inbound_at TEXT
);

CREATE TABLE conversations (
    user_key   TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    flow       TEXT NOT NULL,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    choices    TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);

CREATE TABLE processed_inbound (
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (channel, message_id)
) WITHOUT ROWID;

CREATE INDEX processed_inbound_at ON processed_inbound (processed_at);

CREATE TABLE outbox (
    id                  TEXT PRIMARY KEY,
    channel             TEXT NOT NULL,
    chat_id             TEXT NOT NULL,
    -- The recipient when it is a user (not a CSO chat); their pending notices go when they ask
    -- to be forgotten.
    user_key            TEXT REFERENCES users(key) ON DELETE CASCADE,
    kind                TEXT NOT NULL,
    payload             TEXT NOT NULL,
    state               TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'failed', 'dead')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     TEXT NOT NULL,
    locked_until        TEXT,
    last_error          TEXT,
    dedupe_key          TEXT UNIQUE,
    platform_message_id TEXT,
    created_at          TEXT NOT NULL,
    sent_at             TEXT
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_user ON outbox (user_key);
