-- (a) AddLayerVersionPermission without grantd: what grantd's handler sends
-- (src/layers/handlers.rs add_permission, src/layers/store.rs add_statement,
-- src/db/tenant.rs), statement by statement: the tenant of the pooled connection, then the
-- add, one statement in its own transaction: lock the version row, insert the statement
-- when the revision (none given here, as in grantd's (a)) and the size limit allow it, and
-- swap the row's revision, count and size.
-- Variables (-D): acct, layer, nver, principal. Run with -M prepared (sqlx prepares too).
-- (pgbench turns every :word into a parameter, even inside string literals, so the
-- statement JSON is built with '|' for the colons that precede a word.)
-- :alone stands for the size of a policy holding only the new statement, which grantd
-- computes; the run gives each version few enough statements that the limit never refuses.
-- :rev makes the new revision (grantd sends a fresh UUID as a parameter).
\set v random(1, :nver)
\set r random(1, 1000000000000000)
\set alone 300
\set rev random(1, 999999999999)
SELECT set_config('grantd.account_id', :acct, false);
WITH v AS (
  SELECT policy_revision, policy_statements, policy_statement_bytes
    FROM layer_versions
   WHERE account_id = :acct AND layer_name = :layer AND version = :v
     FOR UPDATE
), added AS (
  INSERT INTO layer_version_statements
       (account_id, layer_name, version, statement_id, principal, organization_id, statement_json)
  SELECT :acct, :layer, :v, format('pgb-%s-%s', :client_id::text, :r::text), :principal, NULL,
         replace(format('{"Sid":"pgb-%s-%s","Effect":"Allow","Principal":{"AWS":"arn|aws|iam||%s|root"},"Action":"lambda|GetLayerVersion","Resource":"arn|aws|lambda|us-east-1|%s|layer|%s|%s"}',
                        :client_id::text, :r::text, :principal::text, :acct::text, :layer::text, :v::text),
                 '|', chr(58))
    FROM v
   WHERE (NULL::text IS NULL OR v.policy_revision::text = NULL::text)
     AND :alone::bigint + v.policy_statement_bytes + v.policy_statements <= 20480
  ON CONFLICT DO NOTHING
  RETURNING statement_json
), swapped AS (
  UPDATE layer_versions
     SET policy_revision = ('00000000-0000-4000-8000-' || lpad(:rev::text, 12, '0'))::uuid,
         policy_statements = policy_statements + 1,
         policy_statement_bytes = policy_statement_bytes + (SELECT octet_length(statement_json) FROM added)
   WHERE account_id = :acct AND layer_name = :layer AND version = :v
     AND EXISTS (SELECT 1 FROM added)
)
SELECT EXISTS (SELECT 1 FROM added),
       v.policy_revision, v.policy_statements, v.policy_statement_bytes,
       EXISTS (SELECT 1 FROM layer_version_statements s
                WHERE s.account_id = :acct AND s.layer_name = :layer AND s.version = :v
                  AND s.statement_id = format('pgb-%s-%s', :client_id::text, :r::text))
  FROM v;
