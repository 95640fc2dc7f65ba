//! Optimistic concurrency decided by the database, across several grantd processes.

use crate::helpers::{database_url, parts, spawn_app};
use crate::layers::{assert_policy_sizes_match, publish, EMPTY_ZIP};
use crate::process::{data_dir, Grantd};
use serde_json::json;

type Answer = (u16, Option<String>, serde_json::Value);

/// Two more grantd processes on the test's database (and its master key); keep the data
/// directories for as long as the processes run.
fn two_more_processes(app: &crate::helpers::TestApp) -> (Grantd, Grantd, [tempfile::TempDir; 2]) {
    let url = database_url(&app.database_name);
    let dirs = [data_dir(), data_dir()];
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("GRANTD_MASTER_KEY", app.key_b64.as_str()),
    ];
    let a = Grantd::serve(dirs[0].path(), &env).unwrap();
    let b = Grantd::serve(dirs[1].path(), &env).unwrap();
    (a, b, dirs)
}

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
    let (a, b, _dirs) = two_more_processes(&app);
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
    assert_policy_sizes_match(&app).await;
}

/// Adds racing for the last bytes of a policy, across three processes: exactly as many win
/// as fit, the rest are told the policy would be too big, and the stored policy never
/// passes 20 KB (the size is checked on the locked version row, not on a snapshot).
#[tokio::test]
async fn concurrent_adds_near_the_size_limit_never_overfill_the_policy() {
    let app = spawn_app().await;
    let (a, b, _dirs) = two_more_processes(&app);
    let endpoints = [a.endpoint(), b.endpoint(), app.address.clone()];
    use base64::Engine as _;
    let zip = base64::engine::general_purpose::STANDARD.encode(EMPTY_ZIP);
    // Every StatementId has the same length, so every statement has the same size.
    let sid = |tag: char, i: usize| format!("{}{i:04}", tag.to_string().repeat(90));
    const ROUNDS: usize = 8;
    const WRITERS: usize = 30;
    for round in 0..ROUNDS {
        publish(
            &app,
            &app.account,
            "full",
            json!({"Content": {"ZipFile": zip}}),
        )
        .await;
        let policy = format!("/2018-10-31/layers/full/versions/{}/policy", round + 1);
        let add = |sid: String, endpoint: &str| {
            app.signed(&app.account, "POST", &policy)
                .to(endpoint)
                .json(&json!({"StatementId": sid, "Action": "lambda:GetLayerVersion", "Principal": "123456789012"}))
        };
        // Fill the policy up to a few statements short of the limit.
        let mut statement_len = 0;
        let mut size = 54; // {"Version":"2012-10-17","Id":"default","Statement":[]}
        let room = 1 + round % 4;
        for i in 0.. {
            if statement_len > 0 && size + (room + 1) * (statement_len + 1) > 20480 {
                break;
            }
            let (status, _, body) = parts(add(sid('s', i), &app.address).send().await).await;
            assert_eq!(status, 201);
            statement_len = body["Statement"].as_str().unwrap().len();
            size += statement_len + usize::from(i > 0);
        }
        let size_now = || async {
            let (status, _, got) =
                parts(app.signed(&app.account, "GET", &policy).send().await).await;
            assert_eq!(status, 200);
            got["Policy"].as_str().unwrap().len()
        };
        let before = size_now().await;
        assert_eq!(before, size);
        let fit = (20480 - before) / (statement_len + 1);
        assert_eq!(fit, room, "round {round}");

        let mut tasks = Vec::new();
        for i in 0..WRITERS {
            let builder = add(sid('r', i), &endpoints[i % endpoints.len()]);
            tasks.push(tokio::spawn(
                async move { parts(builder.send().await).await },
            ));
        }
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                (201, _, _) => won += 1,
                (400, code, _) => {
                    assert_eq!(code.as_deref(), Some("PolicyLengthExceededException"))
                }
                (status, code, _) => panic!("unexpected {status} {code:?}"),
            }
        }
        assert_eq!(won, fit, "round {round}");
        let after = size_now().await;
        assert_eq!(after, before + fit * (statement_len + 1), "round {round}");
        assert!(after <= 20480);
    }
    assert_policy_sizes_match(&app).await;
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
