//! The `grantd` binary as a user runs it: first start, restart, a second server on the
//! same data directory, SIGKILL recovery, admin commands, logs.

use crate::helpers::{database_url, parts, signed_request, TestAccount};
use crate::process::{data_dir, run, Grantd};
use nix::sys::signal::Signal;
use serde_json::Value;

async fn list_layers(endpoint: &str, account: &TestAccount) -> (u16, Option<String>, Value) {
    parts(
        signed_request(endpoint, account, "GET", "/2018-10-31/layers")
            .send()
            .await,
    )
    .await
}

#[tokio::test]
async fn first_start_creates_one_default_account_that_survives_restarts() {
    let dir = data_dir();
    let first = Grantd::serve(dir.path(), &[]).unwrap();
    let created = first.started["DefaultAccount"].clone();
    let account = TestAccount::from_json(&created);
    assert_eq!(account.account_id.len(), 12);
    assert!(account.access_key_id.starts_with("AKIA"));
    assert_eq!(account.secret.len(), 40);
    assert!(account.directory_id.starts_with("d-"));

    let saved = dir.path().join("credentials.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(on_disk, created);

    let endpoint = first.endpoint();
    let (status, _, body) = list_layers(&endpoint, &account).await;
    assert_eq!((status, body), (200, serde_json::json!({"Layers": []})));
    let zip = base64_zip();
    let res = signed_request(
        &endpoint,
        &account,
        "POST",
        "/2018-10-31/layers/kept/versions",
    )
    .json(&serde_json::json!({"Content": {"ZipFile": zip}}))
    .send()
    .await;
    assert_eq!(res.status(), 201);
    let (status, logs) = first.stop();
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    assert!(
        !logs.contains(&account.secret),
        "the secret never reaches stderr"
    );

    let second = Grantd::serve(dir.path(), &[]).unwrap();
    assert!(second.started.get("DefaultAccount").is_none());
    let (status, _, body) = list_layers(&second.endpoint(), &account).await;
    assert_eq!(status, 200);
    assert_eq!(body["Layers"][0]["LayerName"], "kept");
}

fn base64_zip() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(crate::layers::EMPTY_ZIP)
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_exits_and_harms_nothing() {
    let dir = data_dir();
    let first = Grantd::serve(dir.path(), &[]).unwrap();
    let account = TestAccount::from_json(&first.started["DefaultAccount"]);
    let err = match Grantd::serve(dir.path(), &[]) {
        Ok(_) => panic!("a second server must not start"),
        Err(e) => e,
    };
    assert!(err.contains("exited (Some(1))"), "{err}");
    assert!(err.contains("already using data directory"), "{err}");
    let (status, _, _) = list_layers(&first.endpoint(), &account).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_embedded_cluster_recovers_after_sigkill() {
    let dir = data_dir();
    let first = Grantd::serve(dir.path(), &[]).unwrap();
    let account = TestAccount::from_json(&first.started["DefaultAccount"]);
    first.signal(Signal::SIGKILL);
    let mut first = first;
    let _ = first.child.wait();
    let second = Grantd::serve(dir.path(), &[]).unwrap();
    assert!(second.started.get("DefaultAccount").is_none());
    let (status, _, _) = list_layers(&second.endpoint(), &account).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn admin_commands_work_with_and_without_a_running_server() {
    let dir = data_dir();
    // No server: the command starts the cluster itself.
    let (code, out, err) = run(
        dir.path(),
        &[
            "admin",
            "create-account",
            "--account-id",
            "111111111111",
            "--organization-id",
            "o-abcdefghij",
            "--name",
            "first",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["AccountId"], "111111111111");
    assert_eq!(created["OrganizationId"], "o-abcdefghij");
    assert!(created["DirectoryId"].as_str().unwrap().starts_with("d-"));
    let first = TestAccount::from_json(&created);

    let server = Grantd::serve(dir.path(), &[]).unwrap();
    assert!(
        server.started.get("DefaultAccount").is_none(),
        "an account existed already"
    );
    // With the server running: the command attaches to its cluster.
    let (code, out, err) = run(
        dir.path(),
        &["admin", "create-access-key", "--account-id", "111111111111"],
    );
    assert_eq!(code, 0, "{err}");
    let key: Value = serde_json::from_str(&out).unwrap();
    let second_key = TestAccount {
        access_key_id: key["AccessKeyId"].as_str().unwrap().into(),
        secret: key["SecretAccessKey"].as_str().unwrap().into(),
        ..first.clone()
    };
    let endpoint = server.endpoint();
    assert_eq!(list_layers(&endpoint, &first).await.0, 200);
    assert_eq!(list_layers(&endpoint, &second_key).await.0, 200);

    let (code, _, err) = run(
        dir.path(),
        &["admin", "create-account", "--account-id", "111111111111"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("account 111111111111 already exists"), "{err}");
    let (code, _, err) = run(
        dir.path(),
        &["admin", "create-access-key", "--account-id", "999999999999"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("account 999999999999 does not exist"), "{err}");
    let (code, _, err) = run(
        dir.path(),
        &["admin", "create-account", "--account-id", "12"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("not a valid account id"), "{err}");
}

#[tokio::test]
async fn request_ids_appear_in_the_request_log_lines() {
    let dir = data_dir();
    let server = Grantd::serve(dir.path(), &[("RUST_LOG", "info")]).unwrap();
    let account = TestAccount::from_json(&server.started["DefaultAccount"]);
    let res = signed_request(&server.endpoint(), &account, "GET", "/2018-10-31/layers")
        .send()
        .await;
    let id = res.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_owned();
    let (_, logs) = server.stop();
    let line = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| {
            l["fields"]["message"] == "request finished" && l["span"]["request_id"] == id.as_str()
        })
        .unwrap_or_else(|| panic!("no log line for request {id} in\n{logs}"));
    assert_eq!(line["fields"]["status"], 200);
    assert_eq!(line["fields"]["account_id"], account.account_id.as_str());
    assert_eq!(line["fields"]["route"], "/2018-10-31/layers");
    assert_eq!(line["fields"]["method"], "GET");
    assert!(!logs.contains(&account.secret));
}

#[tokio::test]
async fn database_url_mode_creates_the_database_and_migrate_works() {
    let name = format!("grantd_it_{}", uuid::Uuid::new_v4().simple());
    let url = database_url(&name);
    let dir = data_dir();
    let out = std::process::Command::new(crate::process::BIN)
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("GRANTD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"Migrated":true}"#
    );
    let server = Grantd::serve(dir.path(), &[("DATABASE_URL", url.as_str())]).unwrap();
    let account = TestAccount::from_json(&server.started["DefaultAccount"]);
    assert_eq!(list_layers(&server.endpoint(), &account).await.0, 200);
    drop(server);
    crate::helpers::drop_database(&name).await;
}

#[tokio::test]
async fn no_secret_reaches_the_logs_even_at_trace_level() {
    let dir = data_dir();
    let server = Grantd::serve(dir.path(), &[("RUST_LOG", "trace")]).unwrap();
    let account = TestAccount::from_json(&server.started["DefaultAccount"]);
    let endpoint = server.endpoint();
    let password = "Tr4ce-Secret-Pw!";
    let created = signed_request(&endpoint, &account, "POST", "/api/v1/users")
        .service("workdocs")
        .json(&serde_json::json!({"Username": "tracer", "GivenName": "T", "Surname": "R", "Password": password}))
        .send()
        .await;
    assert_eq!(created.status(), 201);
    let login: Value = reqwest::Client::new()
        .post(format!("{endpoint}/api/v1/grantd/login"))
        .json(&serde_json::json!({"OrganizationId": account.directory_id, "Username": "tracer", "Password": password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["AuthenticationToken"].as_str().unwrap().to_owned();
    let me = reqwest::Client::new()
        .get(format!("{endpoint}/api/v1/me"))
        .header("Authentication", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let signed = signed_request(&endpoint, &account, "GET", "/2018-10-31/layers");
    let headers = signed.sign();
    let authorization = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1
        .clone();
    let signature = authorization
        .rsplit("Signature=")
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(signed.send_with(headers, Vec::new()).await.status(), 200);
    let (_, logs) = server.stop();
    assert!(logs.lines().count() > 20, "trace logging was on");
    for (what, secret) in [
        ("password", password),
        ("token", token.as_str()),
        ("access-key secret", account.secret.as_str()),
        ("request signature", signature.as_str()),
    ] {
        assert!(!logs.contains(secret), "the {what} appears in the logs");
    }
}
