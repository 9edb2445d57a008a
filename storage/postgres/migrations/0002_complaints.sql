-- Complaints, where they were routed, what happened to them, who follows them, the chats
-- through which each CSO receives them, and what a CSO member was asked in a group chat.

CREATE TABLE complaints (
    id              text PRIMARY KEY,
    reference       text NOT NULL UNIQUE,
    -- The citizen; NULL once they asked to be forgotten (the complaint stays, anonymous).
    user_key        text REFERENCES users(key) ON DELETE SET NULL,
    channel         text NOT NULL,
    chat_id         text,
    lang            text NOT NULL,
    category        text NOT NULL,
    commune         text NOT NULL,
    place           text,
    description     text NOT NULL,
    media           jsonb NOT NULL DEFAULT '[]',
    contact_consent boolean NOT NULL DEFAULT false,
    contact         text,
    status          text NOT NULL,
    voices          integer NOT NULL DEFAULT 1,
    public          boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    ack_due_at      timestamptz NOT NULL,
    reminded        boolean NOT NULL DEFAULT false,
    escalated       boolean NOT NULL DEFAULT false,
    resolved_at     timestamptz,
    followup_asked  boolean NOT NULL DEFAULT false
);

CREATE INDEX complaints_user ON complaints (user_key);
CREATE INDEX complaints_place ON complaints (commune, category, created_at);
CREATE INDEX complaints_open ON complaints (status, ack_due_at);

CREATE TABLE complaint_routes (
    complaint_id text NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    partner_id   text NOT NULL,
    routed_at    timestamptz NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    PRIMARY KEY (complaint_id, partner_id)
);

CREATE INDEX complaint_routes_partner ON complaint_routes (partner_id, active);

CREATE TABLE complaint_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id text NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    action       text NOT NULL,
    partner_id   text,
    actor        text,
    note         text,
    at           timestamptz NOT NULL
);

CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, at);
CREATE INDEX complaint_events_actor ON complaint_events (actor);

-- Citizens who added their voice to someone else's complaint, and follow it.
CREATE TABLE complaint_followers (
    complaint_id text NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    user_key     text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    added_at     timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, user_key)
);

CREATE INDEX complaint_followers_user ON complaint_followers (user_key);

-- Questions a CSO asked the citizen through the bot, and the answers relayed back.
CREATE TABLE complaint_questions (
    id           text PRIMARY KEY,
    complaint_id text NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    partner_id   text NOT NULL,
    channel      text NOT NULL,
    chat_id      text NOT NULL,
    question     text NOT NULL,
    answer       text,
    asked_at     timestamptz NOT NULL,
    answered_at  timestamptz
);

CREATE TABLE partner_chats (
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    partner_id text NOT NULL,
    linked_at  timestamptz NOT NULL,
    PRIMARY KEY (channel, chat_id)
);

CREATE INDEX partner_chats_partner ON partner_chats (partner_id);

CREATE TABLE partner_link_codes (
    code       text PRIMARY KEY,
    partner_id text NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE TABLE cso_pending (
    user_key   text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    step       text NOT NULL,
    reference  text NOT NULL,
    partner_id text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_key, channel, chat_id)
);
