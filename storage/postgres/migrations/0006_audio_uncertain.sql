-- Voice-note preferences and awaited recordings (as SQLite's 0010), and the outbox flag for
-- sends whose outcome is unknown (as SQLite's 0012): counted as possible duplicates once sent.

CREATE TABLE audio_prefs (
    user_key   text PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    listen     boolean NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE audio_uploads (
    channel     text NOT NULL,
    digest      text NOT NULL,
    remote_id   text NOT NULL,
    uploaded_at timestamptz NOT NULL,
    PRIMARY KEY (channel, digest)
);

-- No foreign key: a group member's first message may be /enregistrer, before their user row.
CREATE TABLE audio_pending (
    user_key   text NOT NULL,
    channel    text NOT NULL,
    chat_id    text NOT NULL,
    audio_key  text NOT NULL,
    lang       text NOT NULL,
    partner_id text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_key, channel, chat_id)
);

ALTER TABLE outbox ADD COLUMN uncertain boolean NOT NULL DEFAULT false;
