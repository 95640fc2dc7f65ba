//! Hostile input over both surfaces: never a 5xx, never internal text, never a change.
//! A deterministic corpus: every endpoint × path labels × query strings × bodies.

use crate::helpers::{spawn_app, TestApp};
use crate::workdocs_helpers::WdUser;

const LABELS: &[&str] = &[
    "a%2Fb",
    "%252F",
    "..",
    "%00",
    "%FF",
    "%E2%80%AE",
    "a%0Ab",
    "%27%3B--",
    "a%26b",
    "%25",
];
const QUERIES: &[&str] = &[
    "MaxItems=abc",
    "MaxItems=-1&MaxItems=5",
    "limit=99999999999999999999",
    "limit=0",
    "query=%25%5F%5C",
    "searchQuery=%25_%5C",
    "query=%E2%80%AE%00",
    "marker=%FF%FE",
    "CompatibleRuntime=%00",
    "userIds=a%2Cb%26c",
    "find=LayerVersion&Arn=%FF",
    "startTime=yesterday",
    "activityTypes=%27",
    "principalId=%00",
    "Marker=%2F%2F%2F",
    "organizationId=%25",
];

fn bodies() -> Vec<Vec<u8>> {
    let mut b: Vec<Vec<u8>> = [
        "", "{", "{\"a\":", "[]", "null", "\"str\"", "{\"Principals\":5}", "{\"Principals\":[{}]}",
        "{\"Name\":\"\\u0000\"}", "{\"Name\":\"a\\u202eb\"}", "{\"StatementId\":{\"$ne\":1}}",
        "{\"Content\":{\"ZipFile\":\"!!!\"}}", "{\"Name\":\"a\",\"Name\":\"b\"}", "{\"Name\":\"\\ud800\"}",
        "{\"StatementId\":\"x'; DROP TABLE layers;--\",\"Action\":\"lambda:GetLayerVersion\",\"Principal\":\"*\"}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    b.push(vec![0xff, 0xfe, b'{', 0x80]);
    b.push("[".repeat(5000).into_bytes());
    b.push(format!("{{\"Name\":\"{}\"}}", "x".repeat(1 << 20)).into_bytes());
    b
}

/// Rows in every table, to prove refused requests changed nothing.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    let tables = [
        "accounts",
        "access_keys",
        "layers",
        "layer_versions",
        "layer_version_statements",
        "wd_users",
        "wd_tokens",
        "wd_groups",
        "wd_group_members",
        "wd_resources",
        "wd_grants",
        "wd_activities",
        "wd_outbox",
    ];
    let mut counts = Vec::new();
    for t in tables {
        counts.push(
            sqlx::query_scalar(&format!("SELECT count(*) FROM {t}"))
                .fetch_one(&app.pool)
                .await
                .unwrap(),
        );
    }
    counts
}

enum Mode<'a> {
    Lambda,
    WorkDocsAdmin,
    Token(&'a WdUser),
}

async fn send(
    app: &TestApp,
    mode: &Mode<'_>,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    let res = match mode {
        Mode::Lambda | Mode::WorkDocsAdmin => {
            let service = if matches!(mode, Mode::Lambda) {
                "lambda"
            } else {
                "workdocs"
            };
            app.signed(&app.account, method, path)
                .service(service)
                .header("content-type", "application/json")
                .body(body.to_vec())
                .send()
                .await
        }
        Mode::Token(user) => app
            .http
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .header("Authentication", format!("Bearer {}", user.token))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .unwrap(),
    };
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn hostile_input_never_gets_a_5xx_or_changes_anything() {
    let app = spawn_app().await;
    let user = app.wd_user(&app.account, "target").await;
    let before = snapshot(&app).await;
    let lambda_writes = [
        ("POST", "/2018-10-31/layers/{L}/versions"),
        ("POST", "/2018-10-31/layers/{L}/versions/1/policy"),
        ("DELETE", "/2018-10-31/layers/{L}/versions/1/policy/{L}"),
    ];
    let workdocs_writes = [
        ("POST", "/api/v1/resources/{L}/permissions"),
        ("POST", "/api/v1/folders"),
        ("DELETE", "/api/v1/resources/{L}/permissions/{L}"),
    ];
    let reads = [
        ("GET", "/2018-10-31/layers?{Q}"),
        ("GET", "/2018-10-31/layers/{L}/versions?{Q}"),
        ("GET", "/api/v1/resources/{L}/permissions?{Q}"),
        ("GET", "/api/v1/users?{Q}"),
        ("GET", "/api/v1/groups?{Q}"),
        ("GET", "/api/v1/activities?{Q}"),
    ];
    let modes = [Mode::Lambda, Mode::WorkDocsAdmin, Mode::Token(&user)];
    let bodies = bodies();
    let mut tried = 0;
    let mut check = |status: u16, text: &str, what: &str| {
        tried += 1;
        assert!(status < 500, "{what} → {status} {text}");
        let lower = text.to_lowercase();
        for leak in ["sqlx", "postgres", "panicked", "/src/", "syntax error"] {
            assert!(!lower.contains(leak), "{what} leaked {leak}: {text}");
        }
    };
    for mode in &modes {
        let is_lambda = matches!(mode, Mode::Lambda);
        let writes: &[(&str, &str)] = if is_lambda {
            &lambda_writes
        } else {
            &workdocs_writes
        };
        for (method, template) in writes {
            for label in LABELS.iter().chain(["x"].iter()) {
                for body in &bodies {
                    let path = template.replace("{L}", label);
                    let (status, text) = send(&app, mode, method, &path, body).await;
                    check(status, &text, &format!("{method} {path}"));
                }
            }
        }
        for (method, template) in reads {
            if template.starts_with("/2018") != is_lambda {
                continue;
            }
            for label in LABELS {
                for query in QUERIES {
                    let path = template.replace("{L}", label).replace("{Q}", query);
                    let (status, text) = send(&app, mode, method, &path, b"").await;
                    check(status, &text, &format!("{method} {path}"));
                }
            }
        }
    }
    // Oversized headers: refused by the HTTP layer, never a 5xx.
    let big = "a".repeat(64 * 1024);
    match app
        .http
        .get(format!("{}/2018-10-31/layers", app.address))
        .header("x-big", &big)
        .send()
        .await
    {
        Ok(res) => assert!(res.status().as_u16() < 500),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    assert_eq!(
        snapshot(&app).await,
        before,
        "refused requests changed nothing"
    );
    println!("hostile inputs tried: {tried}");
    assert!(tried > 1500);
}
