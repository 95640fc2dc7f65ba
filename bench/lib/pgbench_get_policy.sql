-- (b) GetLayerVersionPolicy without grantd: the two reads grantd's handler runs on one
-- pooled connection (src/layers/handlers.rs get_policy, src/layers/store.rs), autocommit.
-- Variables (-D): acct, layer, nver. Run with -M prepared.
\set v random(1, :nver)
SELECT policy_revision FROM layer_versions
 WHERE account_id = :acct AND layer_name = :layer AND version = :v;
SELECT statement_id, statement_json FROM layer_version_statements
 WHERE account_id = :acct AND layer_name = :layer AND version = :v
 ORDER BY position;
