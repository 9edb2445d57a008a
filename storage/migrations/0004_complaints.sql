-- Complaints, where they were routed, what happened to them, who follows them, and the
-- chats through which each CSO receives them.

CREATE TABLE complaints (
    id              TEXT PRIMARY KEY,
    reference       TEXT NOT NULL UNIQUE,
    -- The citizen; NULL once they asked to be forgotten (the complaint stays, anonymous).
    user_key        TEXT REFERENCES users(key) ON DELETE SET NULL,
    channel         TEXT NOT NULL,
    chat_id         TEXT,
    lang            TEXT NOT NULL,
    category        TEXT NOT NULL,
    commune         TEXT NOT NULL,
    place           TEXT,
    description     TEXT NOT NULL,
    media           TEXT NOT NULL DEFAULT '[]',
    contact_consent INTEGER NOT NULL DEFAULT 0,
    contact         TEXT,
    status          TEXT NOT NULL,
    voices          INTEGER NOT NULL DEFAULT 1,
    public          INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    ack_due_at      TEXT NOT NULL,
    reminded        INTEGER NOT NULL DEFAULT 0,
    escalated       INTEGER NOT NULL DEFAULT 0,
    resolved_at     TEXT,
    followup_asked  INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX complaints_user ON complaints (user_key);
CREATE INDEX complaints_place ON complaints (commune, category, created_at);
CREATE INDEX complaints_open ON complaints (status, ack_due_at);

CREATE TABLE complaint_routes (
    complaint_id TEXT NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    partner_id   TEXT NOT NULL,
    routed_at    TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (complaint_id, partner_id)
) WITHOUT ROWID;

CREATE INDEX complaint_routes_partner ON complaint_routes (partner_id, active);

CREATE TABLE complaint_events (
    id           INTEGER PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    action       TEXT NOT NULL,
    partner_id   TEXT,
    actor        TEXT,
    note         TEXT,
    at           TEXT NOT NULL
);

CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, at);

-- Citizens who added their voice to someone else's complaint, and follow it.
CREATE TABLE complaint_followers (
    complaint_id TEXT NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    user_key     TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    added_at     TEXT NOT NULL,
    PRIMARY KEY (complaint_id, user_key)
) WITHOUT ROWID;

-- Questions a CSO asked the citizen through the bot, and the answers relayed back.
CREATE TABLE complaint_questions (
    id           TEXT PRIMARY KEY,
    complaint_id TEXT NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    partner_id   TEXT NOT NULL,
    channel      TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    question     TEXT NOT NULL,
    answer       TEXT,
    asked_at     TEXT NOT NULL,
    answered_at  TEXT
);

CREATE TABLE partner_chats (
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    linked_at  TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
) WITHOUT ROWID;

CREATE INDEX partner_chats_partner ON partner_chats (partner_id);

CREATE TABLE partner_link_codes (
    code       TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
