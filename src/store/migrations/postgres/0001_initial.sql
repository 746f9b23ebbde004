-- Windows and teams changed through the API (config files stay in git).
CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE teams (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
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
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_by TEXT,
    expiry_recorded BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX overrides_by_expiry ON overrides (expires_at);

-- Every real decision, override and change. Append-only.
CREATE TABLE audit (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    team TEXT,
    environment TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_by_kind ON audit (kind, id);
CREATE INDEX audit_by_team ON audit (team, id);
CREATE INDEX audit_by_time ON audit (at);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
