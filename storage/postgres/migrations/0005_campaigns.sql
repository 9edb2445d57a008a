-- Public information campaigns. Who receives one is not a table of its own: each recipient is
-- one outbox row of kind 'campaign' whose dedupe key is 'campaign:NAME:USER_KEY' (UNIQUE), so a
-- send killed and started again never writes a second row for anyone.

CREATE TABLE campaigns (
    name        text PRIMARY KEY,
    status      text NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'sending', 'done', 'cancelled')),
    -- Fingerprint of the message: a resumed send must send what the first one did.
    digest      text NOT NULL,
    -- The campaign file as validated (JSON), for the record.
    definition  text NOT NULL,
    audience    integer NOT NULL DEFAULT 0,
    enqueued    integer NOT NULL DEFAULT 0,
    excluded    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    -- When every recipient had an outbox row (the send command finished).
    enqueued_at timestamptz,
    finished_at timestamptz
);

