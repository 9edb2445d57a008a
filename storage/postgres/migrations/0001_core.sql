-- The core of a turn and of delivery: users, conversation state, processed inbound ids, the
-- outbox, reading history, searches and button tokens. Native types (timestamptz, jsonb,
-- boolean) where SQLite keeps text; the records crossing the ports are the same.

CREATE TABLE users (
    key             text PRIMARY KEY,
    channel         text NOT NULL,
    external_id     text NOT NULL,
    language        text,
    region          text,
    commune         text,
    age_group       text,
    gender          text,
    contact_consent boolean NOT NULL DEFAULT false,
    stopped         boolean NOT NULL DEFAULT false,
    entry_source    text,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    last_inbound_at timestamptz
);

CREATE INDEX users_commune ON users (commune);
CREATE INDEX users_entry_source ON users (entry_source);

CREATE TABLE conversations (
    user_key   text PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    flow       text NOT NULL,
    step       text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}',
    choices    jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL
);

CREATE TABLE processed_inbound (
    channel      text NOT NULL,
    message_id   text NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (channel, message_id)
);

CREATE INDEX processed_inbound_at ON processed_inbound (processed_at);

CREATE TABLE outbox (
    id                  text PRIMARY KEY,
    -- Insertion order, to break ties between rows of one chat created in the same microsecond.
    seq                 bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    channel             text NOT NULL,
    chat_id             text NOT NULL,
    user_key            text REFERENCES users(key) ON DELETE CASCADE,
    kind                text NOT NULL,
    payload             jsonb NOT NULL,
    state               text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'failed', 'dead')),
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL,
    locked_until        timestamptz,
    -- The delivery worker holding the lease: only it may record the row's outcome.
    locked_by           text,
    last_error          text,
    -- Byte order (C): campaigns read their rows as a key range, whatever the database locale.
    dedupe_key          text COLLATE "C" UNIQUE,
    platform_message_id text,
    created_at          timestamptz NOT NULL,
    sent_at             timestamptz
);

-- Only unsent rows are ever looked up by due time or by chat: partial indexes stay small.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state IN ('pending', 'failed');
CREATE INDEX outbox_chat ON outbox (channel, chat_id, created_at, seq)
    WHERE state IN ('pending', 'failed');
CREATE INDEX outbox_user ON outbox (user_key);
CREATE INDEX outbox_kind ON outbox (kind, state);

CREATE TABLE article_reads (
    user_key      text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    article_id    text NOT NULL,
    first_read_at timestamptz NOT NULL,
    last_read_at  timestamptz NOT NULL,
    times         integer NOT NULL DEFAULT 1,
    PRIMARY KEY (user_key, article_id)
);

CREATE INDEX article_reads_article ON article_reads (article_id);

-- No user key here: a query says what people want to know, not who asked.
CREATE TABLE search_queries (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    query      text NOT NULL,
    lang       text NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('confident', 'uncertain', 'none')),
    article_id text,
    score      double precision NOT NULL,
    asked_at   timestamptz NOT NULL
);

CREATE INDEX search_queries_outcome ON search_queries (outcome, query);

CREATE TABLE channel_tokens (
    token      text PRIMARY KEY,
    payload    text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX channel_tokens_created ON channel_tokens (created_at);
