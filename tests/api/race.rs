//! Optimistic concurrency decided by the database, across several grantd processes.

use crate::helpers::{database_url, parts, spawn_app};
use crate::layers::{publish, EMPTY_ZIP};
use crate::process::{data_dir, Grantd};
use serde_json::json;

type Answer = (u16, Option<String>, serde_json::Value);

/// How many of the racing requests got `success`; every other one must be a 412.
async fn winners(tasks: Vec<tokio::task::JoinHandle<Answer>>, success: u16) -> usize {
    let mut won = 0;
    for t in tasks {
        let (status, code, _) = t.await.unwrap();
        match status {
            s if s == success => won += 1,
            412 => assert_eq!(code.as_deref(), Some("PreconditionFailedException")),
            other => panic!("unexpected status {other}"),
        }
    }
    won
}

#[tokio::test]
async fn concurrent_adds_with_one_revision_across_three_processes_have_one_winner() {
    let app = spawn_app().await;
    let url = database_url(&app.database_name);
    let dir_a = data_dir();
    let dir_b = data_dir();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("GRANTD_MASTER_KEY", app.key_b64.as_str()),
    ];
    let a = Grantd::serve(dir_a.path(), &env).unwrap();
    let b = Grantd::serve(dir_b.path(), &env).unwrap();
    assert!(
        a.started.get("DefaultAccount").is_none(),
        "the database already had accounts"
    );
    // Three grantd processes on one database: two children and the test's own server.
    let endpoints = [a.endpoint(), b.endpoint(), app.address.clone()];

    use base64::Engine as _;
    let zip = base64::engine::general_purpose::STANDARD.encode(EMPTY_ZIP);

    const ROUNDS: usize = 100;
    const WRITERS: usize = 50;
    for round in 0..ROUNDS {
        // A version per round keeps each policy far below its 20 KB limit.
        publish(
            &app,
            &app.account,
            "raced",
            json!({"Content": {"ZipFile": zip}}),
        )
        .await;
        let policy = format!("/2018-10-31/layers/raced/versions/{}/policy", round + 1);
        let seed = app
            .signed(&app.account, "POST", &policy)
            .json(&json!({"StatementId": format!("seed{round}"), "Action": "lambda:GetLayerVersion", "Principal": "*"}))
            .send()
            .await;
        let (status, _, body) = parts(seed).await;
        assert_eq!(status, 201);
        let revision = body["RevisionId"].as_str().unwrap().to_owned();

        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let builder = app
                .signed(
                    &app.account,
                    "POST",
                    &format!("{policy}?RevisionId={revision}"),
                )
                .to(&endpoints[i % endpoints.len()])
                .json(&json!({"StatementId": format!("r{round}w{i}"), "Action": "lambda:GetLayerVersion", "Principal": "123456789012"}));
            tasks.push(tokio::spawn(
                async move { parts(builder.send().await).await },
            ));
        }
        assert_eq!(winners(tasks, 201).await, 1, "round {round}");
        let winners: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM layer_version_statements WHERE statement_id LIKE $1",
        )
        .bind(format!("r{round}w%"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(winners, 1, "round {round}: no statement lost or duplicated");
    }
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM layer_version_statements")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(total as usize, 2 * ROUNDS);
}

#[tokio::test]
async fn concurrent_removes_with_one_revision_have_one_winner() {
    let app = spawn_app().await;
    use base64::Engine as _;
    let zip = base64::engine::general_purpose::STANDARD.encode(EMPTY_ZIP);
    publish(
        &app,
        &app.account,
        "shrinking",
        json!({"Content": {"ZipFile": zip}}),
    )
    .await;
    const WRITERS: usize = 30;
    let policy = "/2018-10-31/layers/shrinking/versions/1/policy";
    let mut revision = String::new();
    for i in 0..WRITERS {
        let res = app
            .signed(&app.account, "POST", policy)
            .json(&json!({"StatementId": format!("s{i}"), "Action": "lambda:GetLayerVersion", "Principal": "123456789012"}))
            .send()
            .await;
        let (status, _, body) = parts(res).await;
        assert_eq!(status, 201);
        revision = body["RevisionId"].as_str().unwrap().to_owned();
    }
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let builder = app.signed(
            &app.account,
            "DELETE",
            &format!("{policy}/s{i}?RevisionId={revision}"),
        );
        tasks.push(tokio::spawn(
            async move { parts(builder.send().await).await },
        ));
    }
    assert_eq!(winners(tasks, 204).await, 1);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM layer_version_statements")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(left as usize, WRITERS - 1, "exactly one statement removed");
    let stored: uuid::Uuid = sqlx::query_scalar(
        "SELECT policy_revision FROM layer_versions WHERE layer_name = 'shrinking'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_ne!(
        stored.to_string(),
        revision,
        "the winner swapped in a new revision"
    );
}
