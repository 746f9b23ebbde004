-- Creating requests sent with an Idempotency-Key: the first success is kept,
-- and the same key from the same token gets the same answer back.
CREATE TABLE idempotency (
    token TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (token, key)
);
CREATE INDEX idempotency_by_age ON idempotency (created_at);
