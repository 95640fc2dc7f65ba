//! The command line (PRODUCT.md "How it runs"): `serve`, `migrate` and `admin …`.
//! Every command prints machine-readable JSON on stdout and human messages on stderr, and
//! exits non-zero with a clear message on failure.

use crate::aws::validation::Violations;
use crate::config::{ServeSettings, StorageSettings};
use crate::crypto::MasterKey;
use crate::db::embedded::{ClusterHandle, EmbeddedPostgres};
use crate::startup::Application;
use crate::state::AppState;
use crate::tenancy::{self, AccountId, DirectoryId, NewAccount, NewAccountSpec, OrganizationId};
use crate::workdocs::store::{self, UserInput};
use crate::workdocs::tokens;
use anyhow::Context as _;
use clap::builder::PossibleValuesParser;
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use sqlx::PgPool;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "grantd",
    version,
    args_conflicts_with_subcommands = true,
    about = "Self-hosted permission service speaking the AWS Lambda layer-permission and Amazon WorkDocs sharing APIs"
)]
pub struct Cli {
    #[command(flatten)]
    pub storage: StorageSettings,
    /// The settings of `serve`, which is what runs when no command is given.
    #[command(flatten)]
    pub serve: ServeSettings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve both wire surfaces and the operational endpoints.
    Serve(ServeSettings),
    /// Apply database migrations and exit.
    Migrate,
    /// Administrative commands; they work whether or not a server is running.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (tenant) with its directory and a first access key.
    CreateAccount {
        #[arg(long)]
        account_id: Option<AccountId>,
        #[arg(long)]
        organization_id: Option<OrganizationId>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Create another access key for an account.
    CreateAccessKey {
        #[arg(long)]
        account_id: AccountId,
    },
    /// Create an ACTIVE WorkDocs user, with its root folder and recycle bin.
    CreateUser {
        #[arg(long)]
        account_id: AccountId,
        #[arg(long)]
        username: String,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        surname: String,
        #[arg(long = "type", default_value = "USER", value_parser = PossibleValuesParser::new(store::USER_TYPES))]
        user_type: String,
        /// The login password (4 to 32 characters); without one the user signs in with
        /// tokens from `create-token` only. Prefer the environment variable: command
        /// lines are visible to other users of the machine.
        #[arg(long, env = "GRANTD_USER_PASSWORD", hide_env_values = true)]
        password: Option<SecretString>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Issue a bearer token for a WorkDocs user (shown once, stored only as a digest).
    CreateToken {
        /// The user id, `<id>&<directory id>` (quote it in a shell).
        #[arg(long)]
        user_id: String,
        /// How long the token lives: `30m`, `12h`, `7d` (at most 366d).
        #[arg(long, value_parser = tokens::parse_ttl, default_value = "12h")]
        ttl: chrono::Duration,
    },
    /// Create a WorkDocs group in the account's directory.
    CreateGroup {
        #[arg(long)]
        account_id: AccountId,
        #[arg(long)]
        name: String,
    },
    /// Add a user to a group of the same directory (adding a member again changes nothing).
    AddGroupMember {
        #[arg(long)]
        group_id: String,
        #[arg(long)]
        user_id: String,
    },
}

pub fn run(mut cli: Cli) -> ExitCode {
    let serve = cli.serve.clone();
    let command = cli.command.get_or_insert(Command::Serve(serve));
    let default_filter = match command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    let logs = crate::telemetry::init(cli.storage.log_format, default_filter);
    let result = dispatch(cli);
    // Queued log lines go out before the closing error message.
    drop(logs);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("grantd: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let storage = cli.storage;
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(settings) => {
            // The embedded cluster is started here, on the main thread, which lives as long
            // as the process: PostgreSQL is told to stop when that thread dies.
            let cluster = match storage.database_url {
                Some(_) => None,
                None => Some(EmbeddedPostgres::start(&storage.data_dir)?),
            };
            let options = cluster.as_ref().map(|c| c.connect_options());
            let result = runtime()?.block_on(serve(&storage, &settings, options));
            drop(cluster);
            result
        }
        Command::Migrate => with_database(&storage, |pool, _| async move {
            crate::db::migrate(&pool).await?;
            print_json(&serde_json::json!({"Migrated": true}))?;
            eprintln!("grantd: migrations applied");
            Ok(())
        }),
        Command::Admin(cmd) => with_database(&storage, |pool, key| async move {
            crate::db::migrate(&pool).await?;
            admin(&pool, &key, cmd).await
        }),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs `f` on the configured database: `DATABASE_URL`, the running server's embedded
/// cluster, or an embedded cluster started (and stopped) just for this command.
fn with_database<F, Fut>(storage: &StorageSettings, f: F) -> anyhow::Result<()>
where
    F: FnOnce(PgPool, MasterKey) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let cluster = match storage.database_url {
        Some(_) => None,
        None => Some(crate::db::embedded::open_for_admin(&storage.data_dir)?),
    };
    let options = cluster.as_ref().map(ClusterHandle::connect_options);
    let result = runtime()?.block_on(async {
        let pool = open_pool(storage, options, 2).await?;
        let key = MasterKey::load_or_create(storage.master_key.as_ref(), &storage.data_dir)?;
        let out = f(pool.clone(), key).await;
        pool.close().await;
        out
    });
    drop(cluster);
    result
}

/// How to reach grantd's database: `DATABASE_URL`, or the embedded cluster.
fn connect_options(
    storage: &StorageSettings,
    embedded: Option<PgConnectOptions>,
) -> anyhow::Result<PgConnectOptions> {
    Ok(match (&storage.database_url, embedded) {
        (Some(url), _) => crate::db::options_from_url(url)?,
        (None, Some(cluster)) => cluster.database(crate::db::EMBEDDED_DATABASE),
        (None, None) => anyhow::bail!("no database: set DATABASE_URL or use the embedded cluster"),
    })
}

/// The pool on grantd's database, created first if missing.
async fn open_pool(
    storage: &StorageSettings,
    embedded: Option<PgConnectOptions>,
    size: u32,
) -> anyhow::Result<PgPool> {
    let options = connect_options(storage, embedded)?;
    crate::db::ensure_database(&options).await?;
    crate::db::pool(options, size).await
}

async fn serve(
    storage: &StorageSettings,
    settings: &ServeSettings,
    embedded: Option<PgConnectOptions>,
) -> anyhow::Result<()> {
    let pool = open_pool(
        storage,
        embedded.clone(),
        crate::db::system_pool_size(settings.db_pool_size),
    )
    .await?;
    crate::db::migrate(&pool).await?;
    let tenant_pool = crate::db::tenant::pool(
        connect_options(storage, embedded)?,
        settings.db_pool_size,
        crate::startup::workers(settings),
    )
    .await?;
    let master_key = MasterKey::load_or_create(storage.master_key.as_ref(), &storage.data_dir)?;
    tenancy::verify_master_key(&pool, &master_key).await?;
    let created = tenancy::ensure_default_account(&pool, &master_key).await?;

    let listener = std::net::TcpListener::bind(&settings.listen)
        .with_context(|| format!("binding {}", settings.listen))?;
    let address = listener.local_addr()?;
    let state = AppState {
        system_pool: pool.clone(),
        tenant_pool: tenant_pool.clone(),
        master_key,
        region: storage.region.clone(),
        max_body_bytes: settings.max_body_bytes,
        metrics: crate::metrics::Metrics::new(),
        keys: Default::default(),
        tokens: Default::default(),
        guard: Default::default(),
    };
    let app = Application::build(listener, state, settings)?;
    let endpoint = format!("http://{address}");
    announce(storage, &endpoint, created.as_ref())?;

    let handle = app.handle();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stop requested: finishing in-flight requests");
        handle.stop(true).await;
    });
    tracing::info!(%endpoint, region = %storage.region, "grantd is serving");
    let mailer = settings
        .smtp_url
        .as_ref()
        .map(|url| crate::workdocs::outbox::Mailer::new(url, &settings.smtp_from))
        .transpose()?;
    let outbox = tokio::spawn(crate::workdocs::outbox::run(pool.clone(), mailer));
    app.run_until_stopped().await?;
    outbox.abort();
    tenant_pool.close();
    pool.close().await;
    tracing::info!("grantd stopped");
    Ok(())
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The startup JSON on stdout, and on the very first start the default account's
/// credentials: shown once, and saved (mode 0600) under the data directory.
fn announce(
    storage: &StorageSettings,
    endpoint: &str,
    created: Option<&NewAccount>,
) -> anyhow::Result<()> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Started<'a> {
        endpoint: &'a str,
        region: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        default_account: Option<&'a NewAccount>,
    }
    let path = storage.data_dir.join("credentials.json");
    if let Some(account) = created {
        // Saved before anything is printed, so whoever reads the line finds the file.
        save_private(&path, &serde_json::to_vec_pretty(account)?)?;
    }
    print_json(&Started {
        endpoint,
        region: &storage.region,
        default_account: created,
    })?;
    eprintln!(
        "grantd is serving on {endpoint} (region {})",
        storage.region
    );
    if let Some(account) = created {
        // The secret is shown once, in the JSON line on stdout; stderr, which also carries
        // the logs, never holds it.
        let path = path.display();
        eprintln!(
            "\nCreated the default account {}; its credentials are in the JSON line above and saved to {path} (mode 0600):\n",
            account.account_id
        );
        eprintln!("  export AWS_ACCESS_KEY_ID={}", account.key.access_key_id);
        eprintln!(
            r#"  export AWS_SECRET_ACCESS_KEY="$(grep -o '"SecretAccessKey": *"[^"]*"' {path} | cut -d'"' -f4)""#
        );
        eprintln!("  export AWS_DEFAULT_REGION={}", storage.region);
        eprintln!("\nThen: aws --endpoint-url {endpoint} lambda list-layers\n");
    }
    Ok(())
}

fn save_private(path: &std::path::Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("saving {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

async fn admin(pool: &PgPool, key: &MasterKey, cmd: AdminCommand) -> anyhow::Result<()> {
    tenancy::verify_master_key(pool, key).await?;
    match cmd {
        AdminCommand::CreateAccount {
            account_id,
            organization_id,
            name,
        } => {
            let mut tx = pool.begin().await?;
            let account = tenancy::create_account(
                &mut tx,
                key,
                NewAccountSpec {
                    account_id,
                    organization_id,
                    name,
                },
            )
            .await?;
            tx.commit().await?;
            print_json(&account)?;
            eprintln!("grantd: created account {}", account.account_id);
        }
        AdminCommand::CreateAccessKey { account_id } => {
            let mut conn = pool.acquire().await?;
            let created = tenancy::create_access_key(&mut conn, key, &account_id).await?;
            print_json(&created)?;
            eprintln!(
                "grantd: created access key {} for account {account_id}",
                created.access_key_id
            );
        }
        AdminCommand::CreateUser {
            account_id,
            username,
            given_name,
            surname,
            user_type,
            password,
            email,
        } => {
            let input = UserInput {
                username: Some(&username),
                email_address: email.as_deref(),
                given_name: Some(&given_name),
                surname: Some(&surname),
                password: password.as_ref().map(|p| p.expose_secret()),
                time_zone_id: None,
            };
            let mut v = Violations::new();
            input.check(false, &mut v);
            if !v.is_empty() {
                anyhow::bail!("{}", store::redacted_message(&v, &input.sensitive()));
            }
            let hash = match password {
                Some(p) => Some(tokens::hash_password(p).await.map_err(anyhow::Error::msg)?),
                None => None,
            };
            let mut tx = pool.begin().await?;
            let user = store::create_user(
                &mut tx,
                &account_id,
                &store::NewUser {
                    username: &username,
                    email_address: email.as_deref(),
                    given_name: &given_name,
                    surname: &surname,
                    user_type: &user_type,
                    status: "ACTIVE",
                    password_hash: hash.as_deref(),
                    time_zone_id: None,
                    storage_allocated: None,
                    storage_type: "UNLIMITED",
                },
            )
            .await?;
            tx.commit().await?;
            let id = user.user_id.clone();
            print_json(&crate::workdocs::model::User::from(user))?;
            eprintln!("grantd: created user {id} in account {account_id}");
        }
        AdminCommand::CreateToken { user_id, ttl } => {
            let account = account_of_principal(pool, &user_id).await?;
            let user = store::load_user(pool, &account, &user_id)
                .await?
                .with_context(|| format!("user {user_id} does not exist"))?;
            if user.status != "ACTIVE" {
                anyhow::bail!(
                    "user {user_id} is {}: activate it first, its tokens would not work",
                    user.status
                );
            }
            let mut conn = pool.acquire().await?;
            let issued = tokens::issue(&mut conn, &account, &user_id, ttl).await?;
            print_json(&issued)?;
            eprintln!("grantd: issued a token for user {user_id}");
        }
        AdminCommand::CreateGroup { account_id, name } => {
            let mut conn = pool.acquire().await?;
            let group = store::create_group(&mut conn, &account_id, &name).await?;
            print_json(&serde_json::json!({"Id": group.group_id, "Name": group.name}))?;
            eprintln!(
                "grantd: created group {} in account {account_id}",
                group.group_id
            );
        }
        AdminCommand::AddGroupMember { group_id, user_id } => {
            let account = account_of_principal(pool, &group_id).await?;
            let mut tx = pool.begin().await?;
            store::add_group_member(&mut tx, &account, &group_id, &user_id).await?;
            tx.commit().await?;
            print_json(&serde_json::json!({"GroupId": group_id, "UserId": user_id}))?;
            eprintln!("grantd: user {user_id} is a member of group {group_id}");
        }
    }
    Ok(())
}

/// The account of a WorkDocs user or group id, through the directory after its `&`.
async fn account_of_principal(pool: &PgPool, id: &str) -> anyhow::Result<AccountId> {
    let directory = id
        .rsplit_once('&')
        .map(|(_, directory)| directory)
        .filter(|d| d.parse::<DirectoryId>().is_ok())
        .with_context(|| format!("'{id}' is not a WorkDocs id (<id>&<directory id>)"))?;
    store::account_of_directory(pool, directory)
        .await?
        .with_context(|| format!("organization {directory} does not exist"))
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
