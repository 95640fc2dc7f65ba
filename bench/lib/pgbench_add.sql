-- (a) AddLayerVersionPermission without grantd: what grantd's handler sends
-- (src/layers/handlers.rs add_permission, src/layers/store.rs, src/db/tenant.rs),
-- statement by statement: the tenant of the pooled connection, then one transaction.
-- Variables (-D): acct, layer, nver, principal. Run with -M prepared (sqlx prepares too).
-- (pgbench turns every :word into a parameter, even inside string literals, so the
-- statement JSON is built with '|' for the colons that precede a word.)
\set v random(1, :nver)
\set r random(1, 1000000000000000)
SELECT set_config('grantd.account_id', :acct, false);
BEGIN;
SELECT v.policy_revision, s.statement_id, s.statement_json
  FROM layer_versions v
  LEFT JOIN layer_version_statements s
    ON s.account_id = v.account_id AND s.layer_name = v.layer_name AND s.version = v.version
 WHERE v.account_id = :acct AND v.layer_name = :layer AND v.version = :v
 ORDER BY s.position
 FOR UPDATE OF v;
WITH added AS (
  INSERT INTO layer_version_statements
       (account_id, layer_name, version, statement_id, principal, organization_id, statement_json)
  VALUES (:acct, :layer, :v, format('pgb-%s-%s', :client_id::text, :r::text), :principal, NULL,
          replace(format('{"Sid":"pgb-%s-%s","Effect":"Allow","Principal":{"AWS":"arn|aws|iam||%s|root"},"Action":"lambda|GetLayerVersion","Resource":"arn|aws|lambda|us-east-1|%s|layer|%s|%s"}',
                         :client_id::text, :r::text, :principal::text, :acct::text, :layer::text, :v::text),
                  '|', chr(58)))
)
UPDATE layer_versions SET policy_revision = gen_random_uuid()
 WHERE account_id = :acct AND layer_name = :layer AND version = :v;
COMMIT;
