-- (b) GetLayerVersionPolicy without grantd: what grantd's handler sends on one pooled
-- connection (src/layers/handlers.rs get_policy, src/layers/store.rs policy,
-- src/db/tenant.rs): the tenant, then one read of the revision and the statements, joined
-- by PostgreSQL into one row. -M prepared.
-- Variables (-D): acct, layer, nver.
\set v random(1, :nver)
SELECT set_config('grantd.account_id', :acct, false);
SELECT v.policy_revision, string_agg(s.statement_json, ',' ORDER BY s.position)
  FROM layer_versions v
  LEFT JOIN layer_version_statements s
    ON s.account_id = v.account_id AND s.layer_name = v.layer_name AND s.version = v.version
 WHERE v.account_id = :acct AND v.layer_name = :layer AND v.version = :v
 GROUP BY v.account_id, v.layer_name, v.version;
