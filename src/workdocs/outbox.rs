//! Share notifications. A share with `SendEmail` writes a message to `wd_outbox` in the
//! same transaction as the grant; a background worker delivers it over SMTP when
//! `GRANTD_SMTP_URL` is set, retrying with exponential backoff. Rows are claimed with
//! `FOR UPDATE SKIP LOCKED`, so several grantd processes share the work and a message is
//! only marked delivered after the SMTP server accepted it: none is lost.

use super::actor::Actor;
use super::model::ResourceRow;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use uuid::Uuid;

const BATCH: i64 = 20;
const POLL: Duration = Duration::from_secs(2);
const MAX_BACKOFF_SECONDS: i64 = 3600;

pub async fn enqueue(
    conn: &mut PgConnection,
    actor: &Actor,
    recipient: &str,
    resource: &ResourceRow,
    role: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    let what = if resource.is_folder() {
        "folder"
    } else {
        "document"
    };
    let subject = format!("A {what} was shared with you: {}", resource.name);
    let mut body = format!(
        "{} shared the {what} \"{}\" with you as {role}.\n",
        actor.principal(),
        resource.name
    );
    if !message.is_empty() {
        body.push('\n');
        body.push_str(message);
        body.push('\n');
    }
    sqlx::query(
        "INSERT INTO wd_outbox (account_id, message_id, recipient, subject, body)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor.account_id())
    .bind(Uuid::new_v4())
    .bind(recipient)
    .bind(subject)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where and as whom to send.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `smtp://[user:password@]host[:port]` (plain SMTP; no TLS yet).
    pub fn new(url: &SecretString, from: &str) -> anyhow::Result<Mailer> {
        let invalid =
            || anyhow::anyhow!("GRANTD_SMTP_URL must look like smtp://[user:password@]host[:port]");
        let url = url::Url::parse(url.expose_secret()).map_err(|_| invalid())?;
        if url.scheme() != "smtp" {
            return Err(invalid());
        }
        let host = url.host_str().ok_or_else(invalid)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(25))
            .timeout(Some(Duration::from_secs(20)));
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            builder =
                builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    decode(url.username()),
                    decode(url.password().unwrap_or("")),
                ));
        }
        let transport = builder.build();
        let from = from
            .parse()
            .map_err(|_| anyhow::anyhow!("GRANTD_SMTP_FROM is not a valid mailbox"))?;
        Ok(Mailer { transport, from })
    }
}

/// Runs until the task is dropped: delivers due messages, or (without SMTP) says once that
/// messages wait.
pub async fn run(pool: PgPool, mailer: Option<Mailer>) {
    let mut warned = false;
    loop {
        match &mailer {
            Some(mailer) => match deliver_due(&pool, mailer).await {
                Ok(n) if n > 0 => tracing::info!(delivered = n, "share notifications delivered"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox: could not read pending messages"),
            },
            None if !warned => {
                let pending: Result<i64, _> =
                    sqlx::query_scalar("SELECT count(*) FROM wd_outbox WHERE delivered_at IS NULL")
                        .fetch_one(&pool)
                        .await;
                if let Ok(n) = pending {
                    if n > 0 {
                        tracing::warn!(pending = n, "share notifications are queued but GRANTD_SMTP_URL is not set; they stay queued");
                        warned = true;
                    }
                }
            }
            None => {}
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Claims the due messages, sends each, and records the outcome; returns how many were sent.
pub async fn deliver_due(pool: &PgPool, mailer: &Mailer) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let due: Vec<(String, Uuid, String, String, String, i32)> = sqlx::query_as(
        "SELECT account_id, message_id, recipient, subject, body, attempts FROM wd_outbox
         WHERE delivered_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at LIMIT $1
         FOR UPDATE SKIP LOCKED",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let mut sent = 0;
    for (account_id, message_id, recipient, subject, body, attempts) in due {
        match send(mailer, &recipient, &subject, body).await {
            Ok(()) => {
                sqlx::query(
                    "UPDATE wd_outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL
                     WHERE account_id = $1 AND message_id = $2",
                )
                .bind(&account_id)
                .bind(message_id)
                .execute(&mut *tx)
                .await?;
                sent += 1;
            }
            Err(reason) => {
                let backoff =
                    (2_i64.saturating_pow(attempts.clamp(0, 12) as u32)).min(MAX_BACKOFF_SECONDS);
                tracing::warn!(%message_id, attempts = attempts + 1, retry_in_s = backoff, error = %reason, "share notification not delivered");
                sqlx::query(
                    "UPDATE wd_outbox SET attempts = attempts + 1, last_error = $3,
                         next_attempt_at = now() + make_interval(secs => $4)
                     WHERE account_id = $1 AND message_id = $2",
                )
                .bind(&account_id)
                .bind(message_id)
                .bind(reason)
                .bind(backoff as f64)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(sent)
}

async fn send(mailer: &Mailer, recipient: &str, subject: &str, body: String) -> Result<(), String> {
    let to: Mailbox = recipient
        .parse()
        .map_err(|_| "the recipient is not a valid address".to_owned())?;
    let message = Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(subject)
        .body(body)
        .map_err(|e| e.to_string())?;
    mailer
        .transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
