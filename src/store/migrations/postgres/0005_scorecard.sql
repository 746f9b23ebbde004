-- Scorecard cells set through the API, keyed "team/item" (cells set in
-- config files stay in git). The spec is the cell as JSON.
CREATE TABLE scorecard_cells (
    key TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
