-- Processed inbound ids are kept hashed, as SQLite keeps them: Meta's message ids embed the
-- sender's phone number. Ids already kept are hashed the same way (sha256 of channel, NUL,
-- id; the first 32 hex digits), so a redelivery of an old message is still recognised.
UPDATE processed_inbound
SET message_id = left(encode(sha256(
    convert_to(channel, 'UTF8') || '\x00'::bytea || convert_to(message_id, 'UTF8')), 'hex'), 32);
