-- Short tokens that stand for what does not fit in a platform's button payload
-- (Telegram's callback_data holds 64 bytes): a long choice id, or the rest of a long keyboard.

CREATE TABLE channel_tokens (
    token      TEXT PRIMARY KEY,
    payload    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE INDEX channel_tokens_created ON channel_tokens (created_at);
