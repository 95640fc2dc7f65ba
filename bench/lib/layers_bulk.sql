-- Bulk layer data by SQL, mirroring what the API writes (src/layers/store.rs).
-- psql -v acct=... -v layer=... -v first=... -v last=... -v stmts=... -v principal=...
--
-- Versions first..last of :layer are copies of its version 1 (published through the API
-- beforehand, so every column is the API's): the layer_versions row, its zip in
-- layer_version_contents, and layers.latest_version, as PublishLayerVersion leaves them.
-- Then :stmts statements per version, each stored as AddLayerVersionPermission stores it
-- (statement JSON byte-identical in shape, position from the same sequence) and a new
-- policy_revision, statement count and policy size per version.
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO layer_versions (account_id, layer_name, version, description, license_info,
       compatible_runtimes, compatible_architectures, code_sha256, code_size,
       s3_bucket, s3_key, s3_object_version)
SELECT v1.account_id, v1.layer_name, g, v1.description, v1.license_info,
       v1.compatible_runtimes, v1.compatible_architectures, v1.code_sha256, v1.code_size,
       v1.s3_bucket, v1.s3_key, v1.s3_object_version
  FROM layer_versions v1, generate_series(greatest(:first, 2), :last) g
 WHERE v1.account_id = :'acct' AND v1.layer_name = :'layer' AND v1.version = 1;
INSERT INTO layer_version_contents (account_id, layer_name, version, zip)
SELECT c.account_id, c.layer_name, g, c.zip
  FROM layer_version_contents c, generate_series(greatest(:first, 2), :last) g
 WHERE c.account_id = :'acct' AND c.layer_name = :'layer' AND c.version = 1;
UPDATE layers SET latest_version = greatest(latest_version, :last)
 WHERE account_id = :'acct' AND layer_name = :'layer';
INSERT INTO layer_version_statements
       (account_id, layer_name, version, statement_id, principal, organization_id, statement_json)
SELECT :'acct', :'layer', v, 'bulk-' || s, p, NULL,
       format('{"Sid":"%s","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"lambda:GetLayerVersion","Resource":"arn:aws:lambda:us-east-1:%s:layer:%s:%s"}',
              'bulk-' || s, p, :'acct', :'layer', v)
  FROM (SELECT v, s, lpad(floor(random() * 1e12)::bigint::text, 12, '0') AS p
          FROM generate_series(:first, :last) v, generate_series(1, :stmts) s
       ) x
 WHERE :stmts > 0;
UPDATE layer_versions v
   SET policy_revision = gen_random_uuid(), policy_statements = s.n, policy_statement_bytes = s.bytes
  FROM (SELECT version, count(*) AS n, sum(octet_length(statement_json)) AS bytes
          FROM layer_version_statements
         WHERE account_id = :'acct' AND layer_name = :'layer' AND version BETWEEN :first AND :last
         GROUP BY version) s
 WHERE v.account_id = :'acct' AND v.layer_name = :'layer' AND v.version = s.version
   AND :stmts > 0;
COMMIT;
