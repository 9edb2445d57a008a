-- Which delivery worker holds a row's lease: only that worker may record the row's outcome.
ALTER TABLE outbox ADD COLUMN locked_by TEXT;

-- A chat's unsent rows, looked up to keep its messages in order: a row waits while an
-- earlier one of the same chat is being retried or is in flight.
CREATE INDEX outbox_chat ON outbox (channel, chat_id, state);
