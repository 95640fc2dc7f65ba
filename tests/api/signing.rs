//! SigV4 verification through the real server (aws-wire.md §2).

use crate::helpers::{parts, spawn_app, REGION};
use std::time::{Duration, SystemTime};

const LIST: &str = "/2018-10-31/layers";

#[tokio::test]
async fn botocore_shaped_request_is_accepted() {
    let app = spawn_app().await;
    let res = app
        .signed(&app.account, "GET", LIST)
        .header("content-type", "application/json")
        .send()
        .await;
    let (status, code, body) = parts(res).await;
    assert_eq!((status, code), (200, None));
    assert_eq!(body, serde_json::json!({"Layers": []}));
}

#[tokio::test]
async fn aws_sdk_rust_list_layers_is_accepted() {
    let app = spawn_app().await;
    let out = app
        .lambda(&app.account)
        .list_layers()
        .send()
        .await
        .expect("aws-sdk-lambda ListLayers succeeds");
    assert!(out.layers().is_empty());
    assert!(out.next_marker().is_none());
}

#[tokio::test]
async fn signed_query_with_non_ascii_value_and_filters_is_accepted() {
    let app = spawn_app().await;
    let res = app
        .signed(
            &app.account,
            "GET",
            "/2018-10-31/layers?CompatibleArchitecture=x86_64&MaxItems=10&CompatibleRuntime=M%C3%A1rcia%20%2B%2F%3D",
        )
        .send()
        .await;
    // The signature verifies; the decoded value then fails validation, quoted as sent.
    let (status, code, body) = parts(res).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("1 validation error detected: Value 'Márcia +/=' at 'compatibleRuntime'"));
    let res = app
        .signed(&app.account, "GET", "/2018-10-31/layers?CompatibleRuntime=python3.12&CompatibleArchitecture=x86_64&MaxItems=10")
        .send()
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn content_length_and_user_agent_in_signed_headers_are_accepted() {
    let app = spawn_app().await;
    let res = app
        .signed(&app.account, "GET", LIST)
        .header("content-length", "0")
        .header("x-amz-user-agent", "aws-sdk-rust/1.0 os/linux")
        .send()
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn missing_authorization_is_missing_authentication_token() {
    let app = spawn_app().await;
    let res = app
        .http
        .get(format!("{}{LIST}", app.address))
        .send()
        .await
        .unwrap();
    let (status, code, body) = parts(res).await;
    assert_eq!(status, 403);
    assert_eq!(code.as_deref(), Some("MissingAuthenticationTokenException"));
    assert_eq!(body["message"], "Missing Authentication Token");
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
}

#[tokio::test]
async fn unknown_access_key_is_unrecognized_client() {
    let app = spawn_app().await;
    let res = app
        .signed(&app.account, "GET", LIST)
        .access_key("AKIAAAAAAAAAAAAAAAAA")
        .send()
        .await;
    let (status, code, body) = parts(res).await;
    assert_eq!(status, 403);
    assert_eq!(code.as_deref(), Some("UnrecognizedClientException"));
    assert_eq!(
        body["message"],
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn wrong_secret_is_invalid_signature() {
    let app = spawn_app().await;
    let res = app
        .signed(&app.account, "GET", LIST)
        .secret("wrong-secret-wrong-secret-wrong-secret00")
        .send()
        .await;
    let (status, code, body) = parts(res).await;
    assert_eq!(status, 403);
    assert_eq!(code.as_deref(), Some("InvalidSignatureException"));
    assert_eq!(
        body["message"],
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[tokio::test]
async fn tampered_body_is_rejected() {
    let app = spawn_app().await;
    let builder = app
        .signed(&app.account, "GET", LIST)
        .header("content-type", "application/json")
        .body(r#"{"a":1}"#);
    let headers = builder.sign();
    let res = builder.send_with(headers, br#"{"a":2}"#.to_vec()).await;
    let (status, code, _) = parts(res).await;
    assert_eq!(status, 403);
    assert_eq!(code.as_deref(), Some("InvalidSignatureException"));
}

#[tokio::test]
async fn tampered_query_is_rejected() {
    let app = spawn_app().await;
    let builder = app.signed(&app.account, "GET", "/2018-10-31/layers?MaxItems=10");
    let headers = builder.sign();
    let res = app
        .http
        .get(format!("{}/2018-10-31/layers?MaxItems=11", app.address))
        .headers(to_header_map(&headers))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

fn to_header_map(headers: &[(String, String)]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    map
}

#[tokio::test]
async fn six_minutes_of_skew_is_rejected_and_four_accepted() {
    let app = spawn_app().await;
    let now = SystemTime::now();
    for (offset, past, ok) in [
        (360, true, false),
        (360, false, false),
        (240, true, true),
        (240, false, true),
    ] {
        let d = Duration::from_secs(offset);
        let at = if past { now - d } else { now + d };
        let res = app.signed(&app.account, "GET", LIST).at(at).send().await;
        let (status, code, body) = parts(res).await;
        if ok {
            assert_eq!(status, 200, "offset {offset} past {past}");
        } else {
            assert_eq!(status, 403, "offset {offset} past {past}");
            assert_eq!(code.as_deref(), Some("InvalidSignatureException"));
            let msg = body["message"].as_str().unwrap();
            let expected = if past {
                "Signature expired: "
            } else {
                "Signature not yet current: "
            };
            assert!(msg.starts_with(expected), "{msg}");
        }
    }
}

#[tokio::test]
async fn wrong_service_in_scope_is_rejected() {
    let app = spawn_app().await;
    let res = app
        .signed(&app.account, "GET", LIST)
        .service("workdocs")
        .send()
        .await;
    let (status, code, body) = parts(res).await;
    assert_eq!(status, 403);
    assert_eq!(code.as_deref(), Some("InvalidSignatureException"));
    assert_eq!(
        body["message"],
        "Credential should be scoped to correct service: 'lambda'."
    );
}

#[tokio::test]
async fn foreign_region_in_scope_is_rejected() {
    let app = spawn_app().await;
    let res = app
        .signed(&app.account, "GET", LIST)
        .region("eu-west-1")
        .send()
        .await;
    let (status, code, _) = parts(res).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("InvalidSignatureException"))
    );
    assert_ne!(REGION, "eu-west-1");
}

#[tokio::test]
async fn malformed_authorization_is_incomplete_signature() {
    let app = spawn_app().await;
    for header in [
        "AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20260101/us-east-1/lambda/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
        "Bearer abc",
    ] {
        let res = app
            .http
            .get(format!("{}{LIST}", app.address))
            .header("authorization", header)
            .header("x-amz-date", "20260101T000000Z")
            .send()
            .await
            .unwrap();
        let (status, code, _) = parts(res).await;
        assert_eq!(status, 400, "{header}");
        assert_eq!(code.as_deref(), Some("IncompleteSignatureException"));
    }
}

#[tokio::test]
async fn session_token_must_be_signed_and_is_not_accepted() {
    let app = spawn_app().await;
    // Signed: grantd issues no temporary credentials, so the token is unrecognized.
    let res = app
        .signed(&app.account, "GET", LIST)
        .header("x-amz-security-token", "FQoGZXIvYXdzE")
        .send()
        .await;
    let (status, code, _) = parts(res).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("UnrecognizedClientException"))
    );

    // Added after signing: the token is not covered by the signature.
    let builder = app.signed(&app.account, "GET", LIST);
    let mut headers = builder.sign();
    headers.push(("x-amz-security-token".into(), "FQoGZXIvYXdzE".into()));
    let res = builder.send_with(headers, Vec::new()).await;
    let (status, code, _) = parts(res).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("IncompleteSignatureException"))
    );
}

#[tokio::test]
async fn an_inactive_access_key_is_unrecognized() {
    let app = spawn_app().await;
    sqlx::query("UPDATE access_keys SET status = 'Inactive' WHERE access_key_id = $1")
        .bind(&app.account.access_key_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app.signed(&app.account, "GET", LIST).send().await;
    let (status, code, _) = parts(res).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("UnrecognizedClientException"))
    );
}

#[tokio::test]
async fn access_key_secrets_are_not_stored_in_plaintext() {
    let app = spawn_app().await;
    let sealed: Vec<u8> =
        sqlx::query_scalar("SELECT secret_sealed FROM access_keys WHERE access_key_id = $1")
            .bind(&app.account.access_key_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let secret = app.account.secret.as_bytes();
    assert!(!sealed.windows(secret.len()).any(|w| w == secret));
    assert!(sealed.len() > secret.len());
}
