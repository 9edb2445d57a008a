-- The Good Governance Barometer: rounds opened by CSOs for communes, one answer set per person
-- per round (changeable until the round closes), and the results frozen when it closes.

CREATE TABLE barometer_rounds (
    id         TEXT PRIMARY KEY,
    partner_id TEXT,
    -- JSON list of commune P-codes.
    communes   TEXT NOT NULL,
    opens_at   TEXT NOT NULL,
    closes_at  TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('scheduled', 'open', 'closed')),
    -- JSON, written at close: kept when participants later ask to be forgotten.
    results    TEXT,
    actions    TEXT,
    actions_at TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX barometer_rounds_due ON barometer_rounds (status, opens_at, closes_at);

-- The user key is only there so a person can change their answers and hear the results; it is
-- never exported, and the row goes with the user (the round's frozen results stay).
CREATE TABLE barometer_responses (
    round_id   TEXT NOT NULL REFERENCES barometer_rounds(id) ON DELETE CASCADE,
    user_key   TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    commune    TEXT NOT NULL,
    -- JSON {question id: score 1..5}.
    answers    TEXT NOT NULL,
    comment    TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (round_id, user_key)
) WITHOUT ROWID;

CREATE INDEX barometer_responses_user ON barometer_responses (user_key);
CREATE INDEX users_commune ON users (commune);
