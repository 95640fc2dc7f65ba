-- The size of each version's policy, kept on the version row, so that
-- AddLayerVersionPermission checks the 20 KB limit on the row it locks instead of reading
-- every statement of the policy: the add is one statement whose cost does not grow with
-- the policy. Maintained by src/layers/store.rs (add_statement, remove_statement) in the
-- same statement that inserts or deletes, under the version row's lock.
ALTER TABLE layer_versions
    ADD COLUMN policy_statements integer NOT NULL DEFAULT 0
        CONSTRAINT layer_versions_policy_statements_nonnegative CHECK (policy_statements >= 0),
    -- The sum of octet_length(statement_json) over the version's statements.
    ADD COLUMN policy_statement_bytes bigint NOT NULL DEFAULT 0
        CONSTRAINT layer_versions_policy_statement_bytes_nonnegative CHECK (policy_statement_bytes >= 0);

UPDATE layer_versions v
   SET policy_statements = s.n, policy_statement_bytes = s.bytes
  FROM (SELECT account_id, layer_name, version,
               count(*) AS n, sum(octet_length(statement_json)) AS bytes
          FROM layer_version_statements
         GROUP BY account_id, layer_name, version) s
 WHERE v.account_id = s.account_id AND v.layer_name = s.layer_name AND v.version = s.version;
