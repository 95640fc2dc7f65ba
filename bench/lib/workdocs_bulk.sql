-- Bulk WorkDocs tenant data by SQL, mirroring what the API writes (src/workdocs/store.rs
-- create_user, folders.rs CreateFolder, documents.rs InitiateDocumentVersionUpload,
-- sharing.rs AddResourcePermissions, activity.rs).
-- psql -v acct=... -v dir=... -v tag=... -v users=... -v folders=... -v docs=...
--
-- Adds :users users (each with a ROOT folder and a RECYCLE_BIN, as create_user makes
-- them), :folders folders under each root (FOLDER_CREATED activity each), :docs documents
-- in each folder (INITIALIZED version, DOCUMENT_VERSION_UPLOADED activity), and one
-- share per document: a VIEWER grant to another user of the tenant, picked at random
-- (DOCUMENT_SHARED activity naming the participant).
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE nu ON COMMIT DROP AS
SELECT format('S-1-1-11-%s-%s-%s-%s&%s',
              lpad(floor(random() * 1e10)::bigint::text, 10, '0'),
              lpad(floor(random() * 1e10)::bigint::text, 10, '0'),
              lpad(floor(random() * 1e10)::bigint::text, 10, '0'),
              lpad(floor(random() * 1e4)::bigint::text, 4, '0'), :'dir') AS user_id,
       :'tag' || '-user-' || g AS username,
       encode(sha256(gen_random_uuid()::text::bytea), 'hex') AS root,
       encode(sha256(gen_random_uuid()::text::bytea), 'hex') AS bin
  FROM generate_series(1, :users) g;
INSERT INTO wd_users (account_id, user_id, directory_id, username, email_address, given_name,
       surname, user_type, status, root_folder_id, recycle_bin_folder_id, storage_type)
SELECT :'acct', user_id, :'dir', username, username || '@bench.example', 'Bench', username,
       'USER', 'ACTIVE', root, bin, 'UNLIMITED'
  FROM nu;
INSERT INTO wd_resources (account_id, resource_id, kind, owner_id, creator_id, name, special)
SELECT :'acct', root, 'FOLDER', user_id, user_id, 'ROOT', 'ROOT' FROM nu
UNION ALL
SELECT :'acct', bin, 'FOLDER', user_id, user_id, 'RECYCLE_BIN', 'RECYCLE_BIN' FROM nu;

CREATE TEMP TABLE nf ON COMMIT DROP AS
SELECT nu.user_id, nu.root, encode(sha256(gen_random_uuid()::text::bytea), 'hex') AS folder_id,
       'folder-' || f AS name
  FROM nu, generate_series(1, :folders) f;
INSERT INTO wd_resources (account_id, resource_id, kind, parent_id, owner_id, creator_id, name)
SELECT :'acct', folder_id, 'FOLDER', root, user_id, user_id, name FROM nf;
INSERT INTO wd_activities (account_id, activity_type, initiator_id, resource_id, resource_type,
       resource_name, parent_id)
SELECT :'acct', 'FOLDER_CREATED', user_id, folder_id, 'FOLDER', name, root FROM nf;

CREATE TEMP TABLE nd ON COMMIT DROP AS
SELECT nf.user_id, nf.folder_id, encode(sha256(gen_random_uuid()::text::bytea), 'hex') AS doc_id,
       'document-' || d || '.txt' AS name,
       (extract(epoch FROM now()) * 1000)::bigint || '-'
           || encode(sha256(gen_random_uuid()::text::bytea), 'hex') AS version_id
  FROM nf, generate_series(1, :docs) d;
INSERT INTO wd_resources (account_id, resource_id, kind, parent_id, owner_id, creator_id, name,
       version_id, version_status, content_type, size)
SELECT :'acct', doc_id, 'DOCUMENT', folder_id, user_id, user_id, name, version_id, 'INITIALIZED',
       'text/plain', 4096
  FROM nd;
INSERT INTO wd_activities (account_id, activity_type, initiator_id, resource_id, resource_type,
       resource_name, parent_id)
SELECT :'acct', 'DOCUMENT_VERSION_UPLOADED', user_id, doc_id, 'DOCUMENT', name, folder_id FROM nd;

-- One share per new document, to a random other user of the tenant.
CREATE TEMP TABLE ns ON COMMIT DROP AS
WITH everyone AS (
    SELECT array_agg(user_id ORDER BY user_id) AS ids FROM wd_users WHERE account_id = :'acct'
), picked AS (
    SELECT nd.user_id AS owner_id, nd.doc_id, nd.name, nd.folder_id,
           1 + floor(random() * cardinality(e.ids))::int AS i, e.ids
      FROM nd, everyone e
)
SELECT owner_id, doc_id, name, folder_id,
       CASE WHEN ids[i] = owner_id THEN ids[i % cardinality(ids) + 1] ELSE ids[i] END AS grantee
  FROM picked;
INSERT INTO wd_grants (account_id, resource_id, principal_id, principal_type, role, granted_by)
SELECT :'acct', doc_id, grantee, 'USER', 'VIEWER', owner_id FROM ns
    ON CONFLICT ON CONSTRAINT wd_grants_one_direct_role DO NOTHING;
INSERT INTO wd_activities (account_id, activity_type, initiator_id, resource_id, resource_type,
       resource_name, parent_id, participant_users)
SELECT :'acct', 'DOCUMENT_SHARED', owner_id, doc_id, 'DOCUMENT', name, folder_id, ARRAY[grantee]
  FROM ns;
COMMIT;
