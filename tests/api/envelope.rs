//! The AWS error envelope and the request envelope (aws-wire.md §3.3).

use crate::helpers::{parts, spawn_app};
use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use std::io::{Read as _, Write as _};
use std::time::Duration;

#[tokio::test]
async fn unknown_route_is_unknown_operation_with_a_json_body() {
    let app = spawn_app().await;
    for (method, path) in [
        ("GET", "/nope"),
        ("POST", "/2018-10-31/layers"),
        ("GET", "/2018-10-31/functions"),
        ("DELETE", "/api/v1/whatever"),
        // Known paths, methods they do not serve: the same answer, not an empty 405.
        ("PUT", "/2018-10-31/layers/l/versions"),
        ("POST", "/2018-10-31/layers/l/versions/1"),
        ("DELETE", "/2018-10-31/layers/l/versions/1/policy"),
        ("PUT", "/api/v1/users"),
        ("GET", "/api/v1/users/u/activation"),
        ("POST", "/api/v1/folders/f"),
        ("PUT", "/api/v1/resources/r/permissions"),
    ] {
        let res = app
            .http
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .send()
            .await
            .unwrap();
        assert!(res.headers().contains_key("x-amzn-requestid"));
        let (status, code, body) = parts(res).await;
        assert_eq!(status, 404, "{method} {path}");
        assert_eq!(code.as_deref(), Some("UnknownOperationException"));
        assert_eq!(body["__type"], "UnknownOperationException");
    }
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = spawn_app().await;
    let ok = app
        .signed(&app.account, "GET", "/2018-10-31/layers")
        .send()
        .await;
    let err = app
        .http
        .get(format!("{}/2018-10-31/layers", app.address))
        .send()
        .await
        .unwrap();
    let health = app
        .http
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    let ids: Vec<String> = [ok, err, health]
        .iter()
        .map(|r| r.headers()["x-amzn-requestid"].to_str().unwrap().to_owned())
        .collect();
    for id in &ids {
        uuid::Uuid::parse_str(id).expect("request ids are UUIDs");
    }
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
}

#[tokio::test]
async fn a_declared_body_over_the_cap_is_refused_before_it_is_read() {
    let mut settings = grantd::config::ServeSettings::for_tests();
    settings.max_body_bytes = 1024;
    let app = crate::helpers::spawn_app_with(settings).await;
    // Send only the headers: the answer must come without the body ever being sent.
    let answer = raw_exchange(app.port, |s| {
        write!(
            s,
            "POST /2018-10-31/layers/x/versions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        )
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer
        .to_ascii_lowercase()
        .contains("x-amzn-errortype: requestentitytoolargeexception"));
    assert!(answer.contains(r#""__type":"RequestEntityTooLargeException""#));
    assert!(answer.contains(
        r#""message":"Request must be smaller than 1024 bytes for the PublishLayerVersion operation""#
    ));
}

#[tokio::test]
async fn a_chunked_body_over_the_cap_is_refused() {
    let mut settings = grantd::config::ServeSettings::for_tests();
    settings.max_body_bytes = 1024;
    let app = crate::helpers::spawn_app_with(settings).await;
    let answer = raw_exchange(app.port, |s| {
        write!(s, "GET /2018-10-31/layers HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")?;
        for _ in 0..4 {
            write!(s, "258\r\n{}\r\n", " ".repeat(0x258))?;
        }
        write!(s, "0\r\n\r\n")
    })
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""__type":"RequestEntityTooLargeException""#));
}

/// Writes raw bytes to the server and returns what it answers first.
async fn raw_exchange(
    port: u16,
    write: impl FnOnce(&mut std::net::TcpStream) -> std::io::Result<()> + Send + 'static,
) -> String {
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        // The server may answer and close before everything is written.
        let _ = write(&mut s);
        let mut buf = vec![0u8; 8192];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn invalid_filters_are_validation_errors_in_the_coral_grammar() {
    let app = spawn_app().await;
    let res = app
        .signed(
            &app.account,
            "GET",
            "/2018-10-31/layers?CompatibleArchitecture=archdoesnotexist",
        )
        .send()
        .await;
    let (status, code, body) = parts(res).await;
    assert_eq!(status, 400);
    assert_eq!(code.as_deref(), Some("ValidationException"));
    assert_eq!(
        body,
        serde_json::json!({
            "__type": "ValidationException",
            "message": "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]"
        })
    );
}

#[tokio::test]
async fn aws_sdk_rust_reads_our_errors_with_code_and_message() {
    let app = spawn_app().await;
    let err = app
        .lambda(&app.account)
        .list_layers()
        .compatible_runtime(aws_sdk_lambda::types::Runtime::from("runtimedoesnotexist"))
        .send()
        .await
        .expect_err("an unknown runtime is refused");
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("ValidationException"));
    assert!(service
        .message()
        .unwrap()
        .starts_with("1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs, "));
    assert!(service.meta().extra("aws_request_id").is_some() || service.meta().code().is_some());

    let wrong = crate::helpers::TestAccount {
        secret: "0000000000000000000000000000000000000000".into(),
        ..app.account.clone()
    };
    let err = app.lambda(&wrong).list_layers().send().await.unwrap_err();
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("InvalidSignatureException"));
    assert!(service
        .message()
        .unwrap()
        .starts_with("The request signature we calculated"));
}
