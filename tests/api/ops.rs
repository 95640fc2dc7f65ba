//! Operational endpoints.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readyz_is_not_ready_without_migrations() {
    let app = spawn_app().await;
    sqlx::query("DELETE FROM _sqlx_migrations")
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .http
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not ready");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    app.signed(&app.account, "GET", "/2018-10-31/layers")
        .send()
        .await;
    app.http
        .get(format!("{}/2018-10-31/layers", app.address))
        .send()
        .await
        .unwrap();
    app.http
        .get(format!("{}/2018-10-31/nothing", app.address))
        .send()
        .await
        .unwrap();
    let text = app
        .http
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"grantd_http_requests_total{method="GET",route="/2018-10-31/layers",status="200"} 1"#,
        r#"grantd_http_requests_total{method="GET",route="/2018-10-31/layers",status="403"} 1"#,
        r#"grantd_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(text.contains("grantd_http_request_duration_seconds_bucket{method=\"GET\",route=\"/2018-10-31/layers\",le=\"0.005\"}"));
    assert!(text.contains(r#"grantd_db_pool_max_connections{pool="tenant"} 4"#));
    assert!(text.contains(r#"grantd_db_pool_max_connections{pool="system"} 2"#));
    assert!(text.contains(r#"grantd_db_pool_connections{pool="tenant"} "#));
}
