//! The test harness: the real server on a random port against a fresh database, dropped
//! afterwards. With `DATABASE_URL` unset, one embedded PostgreSQL serves the whole run.

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use grantd::config::ServeSettings;
use grantd::crypto::MasterKey;
use grantd::db::embedded::EmbeddedPostgres;
use grantd::metrics::Metrics;
use grantd::startup::Application;
use grantd::state::AppState;
use grantd::tenancy::{self, NewAccountSpec, OrganizationId};
use secrecy::ExposeSecret;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::SystemTime;

pub const REGION: &str = "us-east-1";

/// The server the tests create databases on: maintenance options, and a URL template
/// (`{db}` for the database) that child `grantd` processes can use as `DATABASE_URL`.
struct Server {
    options: PgConnectOptions,
    url_template: String,
}

fn server() -> &'static PgConnectOptions {
    &shared_server().options
}

/// A `DATABASE_URL` for database `name` on the test server.
pub fn database_url(name: &str) -> String {
    shared_server().url_template.replace("{db}", name)
}

fn shared_server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            // Kept for the life of the test process.
            std::mem::forget(grantd::telemetry::init(
                Some(grantd::config::LogFormat::Pretty),
                "info",
            ));
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            let options = PgConnectOptions::from_str(&url).expect("DATABASE_URL is a valid URL");
            let mut template = url::Url::parse(&url).expect("DATABASE_URL is a valid URL");
            template.set_path("/{db}");
            return Server {
                options,
                url_template: template.to_string().replace("%7Bdb%7D", "{db}"),
            };
        }
        // PostgreSQL is told to stop when the thread that started it dies, so start it on a
        // thread that lives until the test process exits.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let dir = test_cluster_dir();
            match EmbeddedPostgres::start(&dir) {
                Ok(cluster) => {
                    let url = format!(
                        "postgres://grantd@localhost:5432/{{db}}?host={}",
                        cluster.socket_dir().display()
                    );
                    tx.send(Ok((cluster.connect_options(), url))).unwrap();
                    loop {
                        std::thread::park();
                    }
                }
                Err(e) => tx.send(Err(e.to_string())).unwrap(),
            }
        });
        let (options, url_template) = rx
            .recv()
            .unwrap()
            .unwrap_or_else(|e| panic!("starting the embedded test cluster: {e}"));
        Server {
            options,
            url_template,
        }
    })
}

/// A per-process cluster directory the unprivileged PostgreSQL user can reach.
fn test_cluster_dir() -> std::path::PathBuf {
    let root = std::env::temp_dir().join("grantd-tests");
    std::fs::create_dir_all(&root).unwrap();
    set_mode(&root, 0o755);
    // Remove clusters of earlier runs whose process is gone.
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Ok(pid) = name.parse::<i32>() {
            let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = root.join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).unwrap();
    set_mode(&dir, 0o755);
    dir
}

pub fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A fresh, migrated database; dropped when the guard is.
pub struct TestDatabase {
    pub name: String,
    pub options: PgConnectOptions,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let name = format!("grantd_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect_with(server())
            .await
            .expect("test server");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        let _ = admin.close().await;
        TestDatabase {
            options: server().clone().database(&name),
            name,
        }
    }
}

/// Drops a database the test created on the test server.
pub async fn drop_database(name: &str) {
    let mut admin = PgConnection::connect_with(server()).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .unwrap();
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime we may block on: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect_with(server()).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                }
            });
        })
        .join();
    }
}

/// An account's credentials as a client holds them.
#[derive(Clone, Debug)]
pub struct TestAccount {
    pub account_id: String,
    pub access_key_id: String,
    pub secret: String,
    pub directory_id: String,
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub pool: PgPool,
    pub key: MasterKey,
    /// The master key, base64, for other processes on the same database.
    pub key_b64: String,
    pub database_name: String,
    /// The first account; tests make more with [`TestApp::create_account`].
    pub account: TestAccount,
    pub http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    // Declared last: dropped after the pool is closed.
    _db: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServeSettings::for_tests()).await
}

pub async fn spawn_app_with(settings: ServeSettings) -> TestApp {
    let db = TestDatabase::create().await;
    let pool = grantd::db::pool(db.options.clone(), settings.db_pool_size)
        .await
        .unwrap();
    grantd::db::migrate(&pool).await.unwrap();
    let key_b64 = base64_key();
    let key = MasterKey::from_base64(&key_b64).unwrap();
    grantd::tenancy::verify_master_key(&pool, &key)
        .await
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let tenant_pool = grantd::db::tenant::pool(
        db.options.clone(),
        settings.db_pool_size,
        grantd::startup::workers(&settings),
    )
    .await
    .unwrap();
    let state = AppState {
        system_pool: grantd::db::pool(
            db.options.clone(),
            grantd::db::system_pool_size(settings.db_pool_size),
        )
        .await
        .unwrap(),
        tenant_pool,
        master_key: key.clone(),
        region: REGION.into(),
        max_body_bytes: settings.max_body_bytes,
        metrics: Metrics::new(),
        keys: Default::default(),
        tokens: Default::default(),
        guard: Default::default(),
    };
    let app = Application::build(listener, state, &settings).unwrap();
    let port = app.port();
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    let mut test_app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        pool,
        key,
        key_b64,
        database_name: db.name.clone(),
        account: TestAccount {
            account_id: String::new(),
            access_key_id: String::new(),
            secret: String::new(),
            directory_id: String::new(),
        },
        http: reqwest::Client::new(),
        handle,
        _db: db,
    };
    test_app.account = test_app.create_account(None).await;
    test_app
}

fn base64_key() -> String {
    use base64::Engine as _;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        drop(handle.stop(false));
    }
}

impl TestApp {
    pub async fn create_account(&self, organization: Option<&str>) -> TestAccount {
        let mut tx = self.pool.begin().await.unwrap();
        let created = tenancy::create_account(
            &mut tx,
            &self.key,
            NewAccountSpec {
                organization_id: organization.map(|o| OrganizationId::from_str(o).unwrap()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        TestAccount {
            account_id: created.account_id.to_string(),
            access_key_id: created.key.access_key_id.to_string(),
            secret: created.key.secret_access_key.expose_secret().to_owned(),
            directory_id: created.directory_id.to_string(),
        }
    }

    /// A request signed by aws-sigv4 (the signer inside aws-sdk-rust), with exactly the
    /// headers given plus what signing adds: botocore's shape when the headers are
    /// `content-type` (and `host`, added here).
    pub fn signed(
        &self,
        account: &TestAccount,
        method: &str,
        path_and_query: &str,
    ) -> SignedBuilder {
        SignedBuilder {
            base: self.address.clone(),
            host: format!("127.0.0.1:{}", self.port),
            account: account.clone(),
            method: method.to_owned(),
            path_and_query: path_and_query.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            service: "lambda".into(),
            region: REGION.into(),
            time: SystemTime::now(),
        }
    }

    /// An aws-sdk-lambda client for `account`, pointed at this server, retries off.
    pub fn lambda(&self, account: &TestAccount) -> aws_sdk_lambda::Client {
        let creds = Credentials::new(
            &account.access_key_id,
            &account.secret,
            None,
            None,
            "grantd-tests",
        );
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .endpoint_url(&self.address)
            .credentials_provider(creds)
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        aws_sdk_lambda::Client::from_conf(config)
    }
}

/// A request to any grantd endpoint, signed by aws-sigv4 with `account`'s credentials.
pub fn signed_request(
    endpoint: &str,
    account: &TestAccount,
    method: &str,
    path_and_query: &str,
) -> SignedBuilder {
    SignedBuilder {
        base: String::new(),
        host: String::new(),
        account: account.clone(),
        method: method.to_owned(),
        path_and_query: path_and_query.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
        service: "lambda".into(),
        region: REGION.into(),
        time: SystemTime::now(),
    }
    .to(endpoint)
}

impl TestAccount {
    /// From the JSON `grantd` prints for a new account.
    pub fn from_json(v: &serde_json::Value) -> TestAccount {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        TestAccount {
            account_id: s("AccountId"),
            access_key_id: s("AccessKeyId"),
            secret: s("SecretAccessKey"),
            directory_id: s("DirectoryId"),
        }
    }
}

pub struct SignedBuilder {
    base: String,
    host: String,
    account: TestAccount,
    method: String,
    path_and_query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    service: String,
    region: String,
    time: SystemTime,
}

impl SignedBuilder {
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = serde_json::to_vec(body).unwrap();
        self.header("content-type", "application/json")
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends to another server (e.g. a second grantd process) with the same credentials.
    pub fn to(mut self, endpoint: &str) -> Self {
        self.base = endpoint.trim_end_matches('/').to_owned();
        self.host = self.base.trim_start_matches("http://").to_owned();
        self
    }

    pub fn service(mut self, service: &str) -> Self {
        self.service = service.to_owned();
        self
    }

    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_owned();
        self
    }

    pub fn at(mut self, time: SystemTime) -> Self {
        self.time = time;
        self
    }

    pub fn secret(mut self, secret: &str) -> Self {
        self.account.secret = secret.to_owned();
        self
    }

    pub fn access_key(mut self, id: &str) -> Self {
        self.account.access_key_id = id.to_owned();
        self
    }

    /// The signed headers, for tests that alter the request after signing.
    pub fn sign(&self) -> Vec<(String, String)> {
        let mut headers = vec![("host".to_owned(), self.host.clone())];
        headers.extend(self.headers.iter().cloned());
        let identity = Credentials::new(
            &self.account.access_key_id,
            &self.account.secret,
            None,
            None,
            "t",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(self.time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let url = format!("{}{}", self.base, self.path_and_query);
        let signable = SignableRequest::new(
            &self.method,
            &url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Bytes(&self.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let (added, _) = instructions.into_parts();
        for h in added {
            headers.push((h.name().to_owned(), h.value().to_owned()));
        }
        headers
    }

    pub async fn send(self) -> reqwest::Response {
        let headers = self.sign();
        self.send_with(headers, self.body.clone()).await
    }

    pub async fn send_with(
        &self,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let url = format!("{}{}", self.base, self.path_and_query);
        let mut req = reqwest::Client::new().request(self.method.parse().unwrap(), url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.body(body).send().await.unwrap()
    }
}

/// Status, error code header and JSON body of a response.
pub async fn parts(res: reqwest::Response) -> (u16, Option<String>, serde_json::Value) {
    let status = res.status().as_u16();
    let code = res
        .headers()
        .get("x-amzn-errortype")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text}"))
    };
    (status, code, body)
}
