-- Voice notes (issue 18): who prefers listening, the platform ids of files already uploaded
-- (Telegram file_id, WhatsApp media id), and what a CSO member is about to record.

CREATE TABLE audio_prefs (
    user_key   TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    listen     INTEGER NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- Keyed by a hash of the file's bytes: a new recording of the same page is a new upload.
CREATE TABLE audio_uploads (
    channel     TEXT NOT NULL,
    digest      TEXT NOT NULL,
    remote_id   TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    PRIMARY KEY (channel, digest)
) WITHOUT ROWID;

-- No foreign key: a group member's first message may be /enregistrer, and the user row is
-- written later in the same transaction. Rows live minutes and are deleted when used.
CREATE TABLE audio_pending (
    user_key   TEXT NOT NULL,
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    audio_key  TEXT NOT NULL,
    lang       TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_key, channel, chat_id)
) WITHOUT ROWID;
