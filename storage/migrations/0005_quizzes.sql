-- Quizzes: progress and results of each player, anonymous answers for statistics,
-- pseudonyms for leaderboards, group quizzes, and private circles.

CREATE TABLE quiz_progress (
    user_key   TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    quiz_id    TEXT NOT NULL,
    circle_quiz_id TEXT NOT NULL DEFAULT '',
    seed       INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    score      INTEGER NOT NULL,
    missed     TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_key, quiz_id, circle_quiz_id)
) WITHOUT ROWID;

CREATE TABLE quiz_results (
    id          INTEGER PRIMARY KEY,
    user_key    TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    quiz_id     TEXT NOT NULL,
    score       INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    finished_at TEXT NOT NULL
);

CREATE INDEX quiz_results_user ON quiz_results (user_key, quiz_id);

-- No user key: what people answer, with the profile bands they chose to give, for teaching.
CREATE TABLE quiz_answers (
    id          INTEGER PRIMARY KEY,
    session     TEXT NOT NULL,
    quiz_id     TEXT NOT NULL,
    question_id TEXT NOT NULL,
    option      INTEGER NOT NULL,
    correct     INTEGER NOT NULL,
    context     TEXT NOT NULL CHECK (context IN ('solo', 'group', 'circle')),
    gender      TEXT,
    age_group   TEXT,
    answered_at TEXT NOT NULL
);

CREATE INDEX quiz_answers_question ON quiz_answers (quiz_id, question_id);

CREATE TABLE quiz_players (
    user_key  TEXT PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    pseudonym TEXT NOT NULL,
    listed    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE group_quizzes (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    quiz_id      TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    question_row TEXT,
    deadline     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('running', 'finished')),
    started_at   TEXT NOT NULL
);

CREATE UNIQUE INDEX group_quizzes_running ON group_quizzes (channel, chat_id)
    WHERE status = 'running';

-- Members' answers while a group quiz runs; deleted when it ends (only the totals stay).
CREATE TABLE group_answers (
    group_quiz_id TEXT NOT NULL REFERENCES group_quizzes(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    user_key      TEXT NOT NULL,
    correct       INTEGER NOT NULL,
    PRIMARY KEY (group_quiz_id, position, user_key)
) WITHOUT ROWID;

CREATE TABLE circles (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    facilitator TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    code        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE circle_members (
    circle_id TEXT NOT NULL REFERENCES circles(id) ON DELETE CASCADE,
    user_key  TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (circle_id, user_key)
) WITHOUT ROWID;

CREATE TABLE circle_quizzes (
    id         TEXT PRIMARY KEY,
    circle_id  TEXT NOT NULL REFERENCES circles(id) ON DELETE CASCADE,
    quiz_id    TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('running', 'finished')),
    started_at TEXT NOT NULL
);

CREATE TABLE circle_scores (
    circle_quiz_id TEXT NOT NULL REFERENCES circle_quizzes(id) ON DELETE CASCADE,
    user_key       TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    score          INTEGER NOT NULL,
    total          INTEGER NOT NULL,
    PRIMARY KEY (circle_quiz_id, user_key)
) WITHOUT ROWID;
