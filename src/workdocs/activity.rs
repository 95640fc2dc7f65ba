//! Activities: recorded in the same transaction as the change they describe.

use super::actor::Actor;
use super::model::ResourceRow;
use sqlx::PgConnection;

/// What an activity says beyond its type and resource.
#[derive(Debug, Default)]
pub struct Details<'a> {
    pub original_parent_id: Option<&'a str>,
    pub original_name: Option<&'a str>,
    pub participant_users: &'a [String],
    pub participant_groups: &'a [String],
}

/// `kind` is the part after `FOLDER_` / `DOCUMENT_` (e.g. `SHARED`, `CREATED`).
pub async fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    resource: &ResourceRow,
    kind: &str,
    details: Details<'_>,
) -> Result<(), sqlx::Error> {
    let activity_type = format!("{}_{kind}", resource.kind);
    sqlx::query(
        "INSERT INTO wd_activities (account_id, activity_type, initiator_id, resource_id,
             resource_type, resource_name, parent_id, original_parent_id, original_name,
             participant_users, participant_groups)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(actor.account_id())
    .bind(activity_type)
    .bind(actor.principal())
    .bind(&resource.resource_id)
    .bind(&resource.kind)
    .bind(&resource.name)
    .bind(&resource.parent_id)
    .bind(details.original_parent_id)
    .bind(details.original_name)
    .bind(details.participant_users)
    .bind(details.participant_groups)
    .execute(conn)
    .await?;
    Ok(())
}
