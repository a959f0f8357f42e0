-- How a service's upstream routes letter case in paths, for GET /oauth2/verify: 'exact' (paths
-- that differ from a declared endpoint only by case are refused) or 'insensitive'.
ALTER TABLE services ADD COLUMN path_case TEXT NOT NULL DEFAULT 'exact';
