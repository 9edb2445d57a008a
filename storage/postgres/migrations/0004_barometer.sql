-- The barometer, as in the SQLite store (its 0006); JSON stays text, compared as written.
-- The Good Governance Barometer: rounds opened by CSOs for communes, one answer set per person
-- per round (changeable until the round closes), and the results frozen when it closes.

CREATE TABLE barometer_rounds (
    id         text PRIMARY KEY,
    partner_id text,
    -- JSON list of commune P-codes.
    communes   text NOT NULL,
    opens_at   timestamptz NOT NULL,
    closes_at  timestamptz NOT NULL,
    status     text NOT NULL CHECK (status IN ('scheduled', 'open', 'closed')),
    -- JSON, written at close: kept when participants later ask to be forgotten.
    results    text,
    actions    text,
    actions_at timestamptz,
    created_at timestamptz NOT NULL
);

CREATE INDEX barometer_rounds_due ON barometer_rounds (status, opens_at, closes_at);

-- The user key is only there so a person can change their answers and hear the results; it is
-- never exported, and the row goes with the user (the round's frozen results stay).
CREATE TABLE barometer_responses (
    round_id   text NOT NULL REFERENCES barometer_rounds(id) ON DELETE CASCADE,
    user_key   text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    commune    text NOT NULL,
    -- JSON {question id: score 1..5}.
    answers    text NOT NULL,
    comment    text,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (round_id, user_key)
);

CREATE INDEX barometer_responses_user ON barometer_responses (user_key);
