-- What a CSO member was asked in a group chat (a note, a reason, a question for the
-- citizen), kept apart from their own private conversation with the bot.

CREATE TABLE cso_pending (
    user_key   TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    step       TEXT NOT NULL,
    reference  TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_key, channel, chat_id)
) WITHOUT ROWID;
