-- What each user has read (their progress, and programme statistics), and the questions
-- that search could not answer well (so that CSOs see what to write next).

CREATE TABLE article_reads (
    user_key      TEXT NOT NULL REFERENCES users(key) ON DELETE CASCADE,
    article_id    TEXT NOT NULL,
    first_read_at TEXT NOT NULL,
    last_read_at  TEXT NOT NULL,
    times         INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (user_key, article_id)
) WITHOUT ROWID;

CREATE INDEX article_reads_article ON article_reads (article_id);

-- No user key here: a query says what people want to know, not who asked.
CREATE TABLE search_queries (
    id         INTEGER PRIMARY KEY,
    query      TEXT NOT NULL,
    lang       TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('confident', 'uncertain', 'none')),
    article_id TEXT,
    score      REAL NOT NULL,
    asked_at   TEXT NOT NULL
);

CREATE INDEX search_queries_outcome ON search_queries (outcome, query);
