-- The change feed: every write that changes what decisions read bumps the
-- revision in its own transaction and names what it changed, so each
-- replica (and this one) re-reads only that.
CREATE TABLE revision (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO revision (id, n) VALUES (1, 0);

CREATE TABLE changes (
    rev BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);

-- /readyz writes here: ready means able to record.
CREATE TABLE probe (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    at BIGINT NOT NULL
);
INSERT INTO probe (id, at) VALUES (1, 0);

CREATE INDEX overrides_active ON overrides (revoked_at, expires_at);
