//! Database faults: PostgreSQL stops under a running grantd and comes back.

use crate::helpers::{parts, signed_request, TestAccount};
use crate::process::{data_dir, Grantd};
use grantd::db::embedded::EmbeddedPostgres;
use std::time::{Duration, Instant};

#[tokio::test]
async fn grantd_answers_quickly_while_postgres_is_down_and_recovers_without_a_restart() {
    let pg_dir = data_dir();
    let cluster = EmbeddedPostgres::start(pg_dir.path()).unwrap();
    let url = format!(
        "postgres://grantd@localhost:5432/grantd?host={}",
        cluster.socket_dir().display()
    );
    let dir = data_dir();
    let server = Grantd::serve(dir.path(), &[("DATABASE_URL", url.as_str())]).unwrap();
    let account = TestAccount::from_json(&server.started["DefaultAccount"]);
    let endpoint = server.endpoint();
    let http = reqwest::Client::new();
    use base64::Engine as _;
    let zip = base64::engine::general_purpose::STANDARD.encode(crate::layers::EMPTY_ZIP);
    let publish = |name: &str| {
        signed_request(
            &endpoint,
            &account,
            "POST",
            &format!("/2018-10-31/layers/{name}/versions"),
        )
        .json(&serde_json::json!({"Content": {"ZipFile": zip}}))
    };
    assert_eq!(publish("before").send().await.status(), 201);

    drop(cluster); // stops PostgreSQL and releases its data directory
    let started = Instant::now();
    let (status, code, body) = parts(publish("during").send().await).await;
    assert_eq!((status, code.as_deref()), (500, Some("ServiceException")));
    assert_eq!(body["Type"], "Service");
    assert!(
        !body.to_string().to_lowercase().contains("postgres"),
        "{body}"
    );
    let (status, code, _) = parts(
        http.get(format!("{endpoint}/api/v1/me"))
            .header("Authentication", "Bearer whatever")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (503, Some("ServiceUnavailableException"))
    );
    let ready = http.get(format!("{endpoint}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "three requests while the database is down took {:?}",
        started.elapsed()
    );

    let cluster = EmbeddedPostgres::start(pg_dir.path()).unwrap();
    let back = Instant::now();
    let mut recovered = false;
    while back.elapsed() < Duration::from_secs(5) {
        if publish("after").send().await.status() == 201 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "grantd serves again within 5 s of the database returning"
    );
    let (status, _, listed) = parts(
        signed_request(&endpoint, &account, "GET", "/2018-10-31/layers")
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = listed["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["LayerName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["after", "before"],
        "acknowledged writes survived; the refused one left nothing"
    );
    drop(server);
    drop(cluster);
}
