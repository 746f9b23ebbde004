-- Overrides whose expiry is still to be recorded, found without reading
-- every override that ever ended.
CREATE INDEX overrides_unrecorded ON overrides (expires_at) WHERE expiry_recorded = 0 AND revoked_at IS NULL;
