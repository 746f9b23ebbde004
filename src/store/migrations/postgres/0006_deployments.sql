-- Deployments as CI reports them: started, then succeeded, failed or
-- rolled back. The record is JSON; the columns are what lists filter on.
-- Times are Unix milliseconds.
CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    environment TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    record TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX deployments_by_start ON deployments (started_at);
CREATE INDEX deployments_by_team ON deployments (team, started_at);
