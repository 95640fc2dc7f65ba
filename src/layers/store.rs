//! SQL for layers. Every query names the owning account; callers own the transactions.

use super::arn::LayerRef;
use super::policy::Grantee;
use crate::tenancy::{AccountId, OrganizationId};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A version as every read shows it (never its zip).
#[derive(Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub layer_name: String,
    pub version: i64,
    pub description: String,
    pub license_info: Option<String>,
    pub compatible_runtimes: Vec<String>,
    pub compatible_architectures: Vec<String>,
    pub code_sha256: Option<String>,
    pub code_size: i64,
    pub created_at: DateTime<Utc>,
}

const VERSION_COLUMNS: &str = "layer_name, version, description, license_info, \
    compatible_runtimes, compatible_architectures, code_sha256, code_size, created_at";

pub struct NewVersion<'a> {
    pub description: &'a str,
    pub license_info: Option<&'a str>,
    pub compatible_runtimes: &'a [String],
    pub compatible_architectures: &'a [String],
    pub content: Content<'a>,
}

pub enum Content<'a> {
    Zip {
        bytes: &'a [u8],
        sha256_b64: String,
    },
    S3 {
        bucket: &'a str,
        key: &'a str,
        object_version: Option<&'a str>,
    },
}

/// Creates the layer on first use and the next version number, never reused.
pub async fn publish(
    conn: &mut PgConnection,
    layer: &LayerRef,
    new: &NewVersion<'_>,
) -> Result<VersionRow, sqlx::Error> {
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO layers (account_id, layer_name, latest_version) VALUES ($1, $2, 1)
         ON CONFLICT (account_id, layer_name)
         DO UPDATE SET latest_version = layers.latest_version + 1
         RETURNING latest_version",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .fetch_one(&mut *conn)
    .await?;
    let (sha, size, bucket, key, object_version) = match &new.content {
        Content::Zip { bytes, sha256_b64 } => (
            Some(sha256_b64.as_str()),
            bytes.len() as i64,
            None,
            None,
            None,
        ),
        Content::S3 {
            bucket,
            key,
            object_version,
        } => (None, 0, Some(*bucket), Some(*key), *object_version),
    };
    let row: VersionRow = sqlx::query_as(&format!(
        "INSERT INTO layer_versions (account_id, layer_name, version, description, license_info,
             compatible_runtimes, compatible_architectures, code_sha256, code_size,
             s3_bucket, s3_key, s3_object_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         RETURNING {VERSION_COLUMNS}"
    ))
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .bind(new.description)
    .bind(new.license_info)
    .bind(new.compatible_runtimes)
    .bind(new.compatible_architectures)
    .bind(sha)
    .bind(size)
    .bind(bucket)
    .bind(key)
    .bind(object_version)
    .fetch_one(&mut *conn)
    .await?;
    if let Content::Zip { bytes, .. } = &new.content {
        sqlx::query(
            "INSERT INTO layer_version_contents (account_id, layer_name, version, zip)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&layer.account_id)
        .bind(&layer.name)
        .bind(version)
        .bind(*bytes)
        .execute(&mut *conn)
        .await?;
    }
    Ok(row)
}

pub async fn get_version(
    db: impl PgExecutor<'_>,
    layer: &LayerRef,
    version: i64,
) -> Result<Option<VersionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM layer_versions
         WHERE account_id = $1 AND layer_name = $2 AND version = $3"
    ))
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .fetch_optional(db)
    .await
}

pub async fn get_zip(
    db: impl PgExecutor<'_>,
    layer: &LayerRef,
    version: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT zip FROM layer_version_contents
         WHERE account_id = $1 AND layer_name = $2 AND version = $3",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .fetch_optional(db)
    .await
}

/// Whether the version's policy lets `caller` (in `organization`) get it (§5.6). The one
/// reviewed cross-tenant read: it looks at the owner's statements for the caller's sake.
pub async fn policy_grants(
    db: impl PgExecutor<'_>,
    layer: &LayerRef,
    version: i64,
    caller: &AccountId,
    organization: Option<&OrganizationId>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (
             SELECT 1 FROM layer_version_statements
             WHERE account_id = $1 AND layer_name = $2 AND version = $3
               AND (principal = $4
                    OR (principal = '*' AND (organization_id IS NULL OR organization_id = $5))))",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .bind(caller)
    .bind(organization)
    .fetch_one(db)
    .await
}

pub struct ListFilter<'a> {
    pub runtime: Option<&'a str>,
    pub architecture: Option<&'a str>,
    pub limit: i64,
}

/// The newest matching version of each of the account's layers, by layer name, after
/// `after` (exclusive). Returns one extra row to tell whether another page exists.
pub async fn latest_matching(
    db: impl PgExecutor<'_>,
    account: &AccountId,
    filter: &ListFilter<'_>,
    after: Option<&str>,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT ON (layer_name) {VERSION_COLUMNS} FROM layer_versions
         WHERE account_id = $1
           AND ($2::text IS NULL OR $2 = ANY (compatible_runtimes))
           AND ($3::text IS NULL OR $3 = ANY (compatible_architectures))
           AND ($4::text IS NULL OR layer_name > $4)
         ORDER BY layer_name, version DESC
         LIMIT $5"
    ))
    .bind(account)
    .bind(filter.runtime)
    .bind(filter.architecture)
    .bind(after)
    .bind(filter.limit + 1)
    .fetch_all(db)
    .await
}

/// Versions of one layer, newest first, below `before` (exclusive); one extra row.
pub async fn versions(
    db: impl PgExecutor<'_>,
    layer: &LayerRef,
    filter: &ListFilter<'_>,
    before: Option<i64>,
) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM layer_versions
         WHERE account_id = $1 AND layer_name = $2
           AND ($3::text IS NULL OR $3 = ANY (compatible_runtimes))
           AND ($4::text IS NULL OR $4 = ANY (compatible_architectures))
           AND ($5::bigint IS NULL OR version < $5)
         ORDER BY version DESC
         LIMIT $6"
    ))
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(filter.runtime)
    .bind(filter.architecture)
    .bind(before)
    .bind(filter.limit + 1)
    .fetch_all(db)
    .await
}

/// Deletes a version with its content and policy; nothing to delete is fine.
pub async fn delete_version(
    db: impl PgExecutor<'_>,
    layer: &LayerRef,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM layer_versions WHERE account_id = $1 AND layer_name = $2 AND version = $3",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .execute(db)
    .await?;
    Ok(())
}

/// A version's policy as of one snapshot: its revision (`None` before the first statement)
/// and its statements' stored JSON in insertion order, joined by commas (`None` when it
/// has none).
pub struct PolicyState {
    pub revision: Option<Uuid>,
    pub statements: Option<String>,
}

/// The version's policy in one statement, so the revision and the statements always belong
/// together; `None` when the version does not exist. PostgreSQL joins the statements, so
/// the answer is one row whatever the policy's length.
pub async fn policy(
    conn: &mut PgConnection,
    layer: &LayerRef,
    version: i64,
) -> Result<Option<PolicyState>, sqlx::Error> {
    let row: Option<(Option<Uuid>, Option<String>)> = sqlx::query_as(
        "SELECT v.policy_revision, string_agg(s.statement_json, ',' ORDER BY s.position)
           FROM layer_versions v
           LEFT JOIN layer_version_statements s
             ON s.account_id = v.account_id AND s.layer_name = v.layer_name AND s.version = v.version
          WHERE v.account_id = $1 AND v.layer_name = $2 AND v.version = $3
          GROUP BY v.account_id, v.layer_name, v.version",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(revision, statements)| PolicyState {
        revision,
        statements,
    }))
}

/// Locks the version row for a policy change until the caller's transaction ends, and
/// gives its revision; `None` when the version does not exist.
pub async fn lock_policy(
    conn: &mut PgConnection,
    layer: &LayerRef,
    version: i64,
) -> Result<Option<Option<Uuid>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT policy_revision FROM layer_versions
          WHERE account_id = $1 AND layer_name = $2 AND version = $3
            FOR UPDATE",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .fetch_optional(conn)
    .await
}

pub struct NewStatement<'a> {
    pub statement_id: &'a str,
    pub grantee: &'a Grantee,
    pub organization: Option<&'a OrganizationId>,
    pub json: &'a str,
}

/// What [`add_statement`] did.
pub enum AddOutcome {
    /// Added, under this new revision.
    Added(Uuid),
    /// No such version.
    VersionMissing,
    /// Nothing changed: the version's policy as its locked row stood, for the caller to
    /// say why (a taken id, a stale revision, or the size limit).
    Refused(PolicyFacts),
}

pub struct PolicyFacts {
    pub revision: Option<Uuid>,
    /// The id was already in the policy when the statement started. An id that a
    /// concurrent add took while this one waited for the row lock is not seen here, but
    /// the primary key still refuses it.
    pub id_taken: bool,
    pub statements: i64,
    pub statement_bytes: i64,
}

impl PolicyFacts {
    /// The size the policy would have with one more statement, given the size of a policy
    /// holding only that statement: one comma per statement already there.
    pub fn size_with(&self, alone: usize) -> i64 {
        alone as i64 + self.statement_bytes + self.statements
    }
}

/// Adds a statement and swaps in a new revision, in one statement and so one round trip:
/// the version row is locked, the revision (when given) and the size limit are checked on
/// it, the primary key refuses a taken id, and the row's revision, statement count and
/// size change only when the statement went in. `alone` is the size of a policy holding
/// only the new statement; the policy after the add must not exceed `limit` bytes.
pub async fn add_statement(
    conn: &mut PgConnection,
    layer: &LayerRef,
    version: i64,
    statement: &NewStatement<'_>,
    given_revision: Option<&str>,
    alone: usize,
    limit: usize,
) -> Result<AddOutcome, sqlx::Error> {
    let revision = Uuid::new_v4();
    let row: Option<(bool, Option<Uuid>, i32, i64, bool)> = sqlx::query_as(
        "WITH v AS (
             SELECT policy_revision, policy_statements, policy_statement_bytes
               FROM layer_versions
              WHERE account_id = $1 AND layer_name = $2 AND version = $3
                FOR UPDATE
         ), added AS (
             INSERT INTO layer_version_statements
                 (account_id, layer_name, version, statement_id, principal, organization_id, statement_json)
             SELECT $1, $2, $3, $4, $5, $6, $7
               FROM v
              WHERE ($9::text IS NULL OR v.policy_revision::text = $9::text)
                AND $10::bigint + v.policy_statement_bytes + v.policy_statements <= $11::bigint
             ON CONFLICT DO NOTHING
             RETURNING 1
         ), swapped AS (
             UPDATE layer_versions
                SET policy_revision = $8,
                    policy_statements = policy_statements + 1,
                    policy_statement_bytes = policy_statement_bytes + octet_length($7)
              WHERE account_id = $1 AND layer_name = $2 AND version = $3
                AND EXISTS (SELECT 1 FROM added)
         )
         SELECT EXISTS (SELECT 1 FROM added),
                v.policy_revision, v.policy_statements, v.policy_statement_bytes,
                EXISTS (SELECT 1 FROM layer_version_statements s
                         WHERE s.account_id = $1 AND s.layer_name = $2 AND s.version = $3
                           AND s.statement_id = $4)
           FROM v",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .bind(statement.statement_id)
    .bind(statement.grantee.stored())
    .bind(statement.organization)
    .bind(statement.json)
    .bind(revision)
    .bind(given_revision)
    .bind(alone as i64)
    .bind(limit as i64)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        None => AddOutcome::VersionMissing,
        Some((true, ..)) => AddOutcome::Added(revision),
        Some((false, revision, statements, statement_bytes, id_taken)) => {
            AddOutcome::Refused(PolicyFacts {
                revision,
                id_taken,
                statements: statements.into(),
                statement_bytes,
            })
        }
    })
}

/// Removes a statement and swaps in a new revision, in one statement; `None` when there was
/// no such statement (and nothing changed).
pub async fn remove_statement(
    conn: &mut PgConnection,
    layer: &LayerRef,
    version: i64,
    statement_id: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "WITH removed AS (
             DELETE FROM layer_version_statements
             WHERE account_id = $1 AND layer_name = $2 AND version = $3 AND statement_id = $4
             RETURNING octet_length(statement_json) AS bytes
         )
         UPDATE layer_versions
            SET policy_revision = $5,
                policy_statements = policy_statements - 1,
                policy_statement_bytes = policy_statement_bytes - removed.bytes
           FROM removed
          WHERE account_id = $1 AND layer_name = $2 AND version = $3
         RETURNING policy_revision",
    )
    .bind(&layer.account_id)
    .bind(&layer.name)
    .bind(version)
    .bind(statement_id)
    .bind(Uuid::new_v4())
    .fetch_optional(conn)
    .await
}
