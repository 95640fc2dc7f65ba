-- (a) AddLayerVersionPermission without grantd: the transaction grantd's handler runs
-- (src/layers/handlers.rs add_permission, src/layers/store.rs), statement by statement.
-- Variables (-D): acct, layer, nver, principal. Run with -M prepared (sqlx prepares too).
-- (pgbench turns every :word into a parameter, even inside string literals, so the
-- statement JSON is built with '|' for the colons that precede a word.)
\set v random(1, :nver)
\set r random(1, 1000000000000000)
BEGIN;
SELECT policy_revision FROM layer_versions
 WHERE account_id = :acct AND layer_name = :layer AND version = :v
 FOR UPDATE;
SELECT statement_id, statement_json FROM layer_version_statements
 WHERE account_id = :acct AND layer_name = :layer AND version = :v
 ORDER BY position;
INSERT INTO layer_version_statements
     (account_id, layer_name, version, statement_id, principal, organization_id, statement_json)
VALUES (:acct, :layer, :v, format('pgb-%s-%s', :client_id::text, :r::text), :principal, NULL,
        replace(format('{"Sid":"pgb-%s-%s","Effect":"Allow","Principal":{"AWS":"arn|aws|iam||%s|root"},"Action":"lambda|GetLayerVersion","Resource":"arn|aws|lambda|us-east-1|%s|layer|%s|%s"}',
                       :client_id::text, :r::text, :principal::text, :acct::text, :layer::text, :v::text),
                '|', chr(58)));
UPDATE layer_versions SET policy_revision = gen_random_uuid()
 WHERE account_id = :acct AND layer_name = :layer AND version = :v;
COMMIT;
