-- Health check sessions: a team's own votes, counts per topic and notes
-- (the record, JSON), never who voted what. One session per team and day
-- (the id is team-date). recorded_at is Unix milliseconds.
CREATE TABLE health_checks (
    id TEXT PRIMARY KEY,
    team TEXT NOT NULL,
    date TEXT NOT NULL,
    record TEXT NOT NULL,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX health_checks_by_team ON health_checks (team, date);
CREATE INDEX health_checks_by_date ON health_checks (date);
