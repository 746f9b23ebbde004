-- Windows and teams changed through the API (config files stay in git).
CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE teams (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);

-- Emergency overrides. Times are Unix milliseconds.
CREATE TABLE overrides (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    service TEXT,
    environment TEXT NOT NULL,
    reason TEXT NOT NULL,
    ticket TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT,
    expiry_recorded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX overrides_by_expiry ON overrides (expires_at);

-- Every real decision, override and change. Append-only.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    team TEXT,
    environment TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_by_kind ON audit (kind, id);
CREATE INDEX audit_by_team ON audit (team, id);
CREATE INDEX audit_by_time ON audit (at);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only');
END;
