-- (b) GetLayerVersionPolicy without grantd: what grantd's handler sends on one pooled
-- connection (src/layers/handlers.rs get_policy, src/layers/store.rs policy,
-- src/db/tenant.rs): the tenant, then one read of revision and statements. -M prepared.
-- Variables (-D): acct, layer, nver.
\set v random(1, :nver)
SELECT set_config('grantd.account_id', :acct, false);
SELECT v.policy_revision, s.statement_id, s.statement_json
  FROM layer_versions v
  LEFT JOIN layer_version_statements s
    ON s.account_id = v.account_id AND s.layer_name = v.layer_name AND s.version = v.version
 WHERE v.account_id = :acct AND v.layer_name = :layer AND v.version = :v
 ORDER BY s.position;
