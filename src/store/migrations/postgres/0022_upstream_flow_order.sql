-- Open upstream sign-ins per browser are capped (code.upstream_flows_per_browser): beyond it the
-- oldest of that binding cookie's flows goes, so the flows need their order of start (seq) and
-- a lookup by binding.
ALTER TABLE upstream_flows ADD COLUMN seq BIGSERIAL;
CREATE INDEX upstream_flows_binding ON upstream_flows (binding_hash, seq);
