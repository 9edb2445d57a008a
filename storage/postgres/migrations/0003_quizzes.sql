-- Quizzes, as in the SQLite store (its 0005): the statements are shared, so flags such as
-- `correct` and `listed` stay integers 0/1 here too.
-- Quizzes: progress and results of each player, anonymous answers for statistics,
-- pseudonyms for leaderboards, group quizzes, and private circles.

CREATE TABLE quiz_progress (
    user_key   text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    quiz_id    text NOT NULL,
    circle_quiz_id text NOT NULL DEFAULT '',
    seed       integer NOT NULL,
    position   integer NOT NULL,
    score      integer NOT NULL,
    missed     jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (user_key, quiz_id, circle_quiz_id)
);

CREATE TABLE quiz_results (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_key    text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    quiz_id     text NOT NULL,
    score       integer NOT NULL,
    total       integer NOT NULL,
    finished_at timestamptz NOT NULL
);

CREATE INDEX quiz_results_user ON quiz_results (user_key, quiz_id);

-- No user key: what people answer, with the profile bands they chose to give, for teaching.
CREATE TABLE quiz_answers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session     text NOT NULL,
    quiz_id     text NOT NULL,
    question_id text NOT NULL,
    option      integer NOT NULL,
    correct     integer NOT NULL,
    context     text NOT NULL CHECK (context IN ('solo', 'group', 'circle')),
    gender      text,
    age_group   text,
    answered_at timestamptz NOT NULL
);

CREATE INDEX quiz_answers_question ON quiz_answers (quiz_id, question_id);

CREATE TABLE quiz_players (
    user_key  text PRIMARY KEY REFERENCES users(key) ON DELETE CASCADE,
    pseudonym text NOT NULL,
    listed    integer NOT NULL DEFAULT 0
);

CREATE TABLE group_quizzes (
    id           text PRIMARY KEY,
    channel      text NOT NULL,
    chat_id      text NOT NULL,
    quiz_id      text NOT NULL,
    seed         integer NOT NULL,
    position     integer NOT NULL,
    question_row text,
    deadline     timestamptz NOT NULL,
    status       text NOT NULL CHECK (status IN ('running', 'finished')),
    started_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX group_quizzes_running ON group_quizzes (channel, chat_id)
    WHERE status = 'running';

-- Members' answers while a group quiz runs; deleted when it ends (only the totals stay).
CREATE TABLE group_answers (
    group_quiz_id text NOT NULL REFERENCES group_quizzes(id) ON DELETE CASCADE,
    position      integer NOT NULL,
    user_key      text NOT NULL,
    correct       integer NOT NULL,
    PRIMARY KEY (group_quiz_id, position, user_key)
);

CREATE TABLE circles (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    facilitator text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    code        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL
);

CREATE TABLE circle_members (
    circle_id text NOT NULL REFERENCES circles(id) ON DELETE CASCADE,
    user_key  text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (circle_id, user_key)
);

CREATE TABLE circle_quizzes (
    id         text PRIMARY KEY,
    circle_id  text NOT NULL REFERENCES circles(id) ON DELETE CASCADE,
    quiz_id    text NOT NULL,
    deadline   timestamptz NOT NULL,
    status     text NOT NULL CHECK (status IN ('running', 'finished')),
    started_at timestamptz NOT NULL
);

CREATE TABLE circle_scores (
    circle_quiz_id text NOT NULL REFERENCES circle_quizzes(id) ON DELETE CASCADE,
    user_key       text NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    score          integer NOT NULL,
    total          integer NOT NULL,
    PRIMARY KEY (circle_quiz_id, user_key)
);
