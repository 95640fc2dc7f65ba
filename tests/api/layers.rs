//! Lambda layer operations and their policies (aws-wire.md §4–§5, §8, §9).

use crate::helpers::{parts, spawn_app, TestAccount, TestApp};
use serde_json::{json, Value};

/// The smallest valid zip: an empty archive.
pub const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
const NOT_FOUND: &str = "The resource you requested does not exist.";
const STALE: &str = "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub async fn publish(
    app: &TestApp,
    who: &TestAccount,
    name: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    let res = app
        .signed(who, "POST", &format!("/2018-10-31/layers/{name}/versions"))
        .json(&body)
        .send()
        .await;
    parts(res).await
}

async fn publish_zip(app: &TestApp, who: &TestAccount, name: &str) -> Value {
    let (status, code, body) = publish(
        app,
        who,
        name,
        json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}}),
    )
    .await;
    assert_eq!((status, code), (201, None), "{body}");
    body
}

async fn call(
    app: &TestApp,
    who: &TestAccount,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut b = app.signed(who, method, path);
    if let Some(body) = body {
        b = b.json(&body);
    }
    parts(b.send().await).await
}

fn layer_arn(who: &TestAccount, name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{}:layer:{name}", who.account_id)
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A")
}

async fn add(
    app: &TestApp,
    who: &TestAccount,
    layer: &str,
    version: i64,
    query: &str,
    body: Value,
) -> (u16, Option<String>, Value) {
    call(
        app,
        who,
        "POST",
        &format!("/2018-10-31/layers/{layer}/versions/{version}/policy{query}"),
        Some(body),
    )
    .await
}

fn grant(sid: &str, principal: &str) -> Value {
    json!({"StatementId": sid, "Action": "lambda:GetLayerVersion", "Principal": principal})
}

/// Every version row's policy count and size (kept by the store so that an add need not
/// read the policy) agree with the statements really stored.
pub async fn assert_policy_sizes_match(app: &TestApp) {
    let wrong: Vec<(String, i64, i32, i64, i64, i64)> = sqlx::query_as(
        "SELECT v.layer_name, v.version, v.policy_statements, v.policy_statement_bytes,
                count(s.statement_id), coalesce(sum(octet_length(s.statement_json)), 0)::bigint
           FROM layer_versions v
           LEFT JOIN layer_version_statements s
             ON s.account_id = v.account_id AND s.layer_name = v.layer_name AND s.version = v.version
          GROUP BY v.account_id, v.layer_name, v.version
         HAVING v.policy_statements <> count(s.statement_id)
             OR v.policy_statement_bytes <> coalesce(sum(octet_length(s.statement_json)), 0)",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(wrong.is_empty(), "policy sizes out of step: {wrong:?}");
}

async fn statement_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM layer_version_statements")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn publish_returns_201_with_the_aws_shape_and_stores_the_zip() {
    let app = spawn_app().await;
    let (status, _, body) = publish(
        &app,
        &app.account,
        "my-layer",
        json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}, "CompatibleRuntimes": ["python3.12"], "CompatibleArchitectures": ["arm64"], "LicenseInfo": "MIT"}),
    )
    .await;
    assert_eq!(status, 201);
    use sha2::Digest as _;
    assert_eq!(
        body["Content"]["CodeSha256"],
        b64(&sha2::Sha256::digest(EMPTY_ZIP))
    );
    assert_eq!(body["Content"]["CodeSize"], EMPTY_ZIP.len());
    assert_eq!(body["Version"], 1);
    assert_eq!(body["Description"], "");
    assert_eq!(body["LicenseInfo"], "MIT");
    assert_eq!(body["CompatibleRuntimes"], json!(["python3.12"]));
    assert_eq!(body["LayerArn"], layer_arn(&app.account, "my-layer"));
    assert_eq!(
        body["LayerVersionArn"],
        format!("{}:1", layer_arn(&app.account, "my-layer"))
    );
    let created = body["CreatedDate"].as_str().unwrap();
    assert!(
        created.ends_with("+0000") && created.len() == 28,
        "{created}"
    );

    let second = publish_zip(&app, &app.account, "my-layer").await;
    assert_eq!(second["Version"], 2);
    assert!(second.get("LicenseInfo").is_none());
    assert_eq!(second["CompatibleArchitectures"], json!([]));
    let zip: Vec<u8> =
        sqlx::query_scalar("SELECT zip FROM layer_version_contents WHERE version = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(zip, EMPTY_ZIP);

    // Content.Location downloads the zip with a plain GET.
    let location = body["Content"]["Location"].as_str().unwrap();
    let res = reqwest::get(location).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().as_ref(), EMPTY_ZIP);
    let tampered = location.replace("Expires=", "Expires=1");
    assert_eq!(reqwest::get(tampered).await.unwrap().status(), 403);
}

#[tokio::test]
async fn publish_refuses_bad_input_and_stores_nothing() {
    let app = spawn_app().await;
    let (status, code, body) = publish(
        &app,
        &app.account,
        "l",
        json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}, "CompatibleRuntimes": ["invalidruntime"], "CompatibleArchitectures": ["invalidarch"]}),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    assert_eq!(
        body["message"],
        "2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]; Value '[invalidarch]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]"
    );

    let (status, code, body) = publish(&app, &app.account, "l", json!({})).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    assert_eq!(body["message"], "1 validation error detected: Value null at 'content' failed to satisfy constraint: Member must not be null");

    let (status, code, _) = publish(
        &app,
        &app.account,
        "l",
        json!({"Content": {"ZipFile": b64(b"not a zip")}}),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidParameterValueException"))
    );

    let (status, code, _) = publish(&app, &app.account, "l", json!({"Content": {}})).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidParameterValueException"))
    );

    let (status, code, _) =
        publish(&app, &app.account, "l", json!({"Content": {"ZipFile": 5}})).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("SerializationException"))
    );

    let (status, code, _) = publish(
        &app,
        &app.account,
        "bad%20name",
        json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}}),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );

    let res = app
        .signed(&app.account, "POST", "/2018-10-31/layers/l/versions")
        .header("content-type", "application/json")
        .body(r#"{"Content": {"ZipFile": "#)
        .send()
        .await;
    let (status, code, body) = parts(res).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("SerializationException"))
    );
    assert_eq!(body["__type"], "SerializationException");

    let layers: i64 = sqlx::query_scalar("SELECT count(*) FROM layers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(layers, 0);
}

#[tokio::test]
async fn s3_content_references_are_recorded() {
    let app = spawn_app().await;
    let (status, _, body) = publish(
        &app,
        &app.account,
        "s3",
        json!({"Content": {"S3Bucket": "my-bucket", "S3Key": "layer.zip", "S3ObjectVersion": "3"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let row: (String, String, Option<String>) =
        sqlx::query_as("SELECT s3_bucket, s3_key, s3_object_version FROM layer_versions")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        row,
        ("my-bucket".into(), "layer.zip".into(), Some("3".into()))
    );
    let (status, code, _) = publish(
        &app,
        &app.account,
        "s3",
        json!({"Content": {"S3Bucket": "bad.", "S3Key": "k"}}),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
}

#[tokio::test]
async fn version_numbers_are_never_reused_and_delete_is_always_204() {
    let app = spawn_app().await;
    publish_zip(&app, &app.account, "l").await;
    publish_zip(&app, &app.account, "l").await;
    for v in [1, 2, 2, 9] {
        let (status, _, body) = call(
            &app,
            &app.account,
            "DELETE",
            &format!("/2018-10-31/layers/l/versions/{v}"),
            None,
        )
        .await;
        assert_eq!((status, body), (204, Value::Null));
    }
    let (status, _, _) = call(
        &app,
        &app.account,
        "DELETE",
        "/2018-10-31/layers/nothing/versions/1",
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(publish_zip(&app, &app.account, "l").await["Version"], 3);
    let (status, code, body) = call(
        &app,
        &app.account,
        "DELETE",
        "/2018-10-31/layers/l/versions/0",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidParameterValueException"))
    );
    assert_eq!(
        body,
        json!({"__type": "InvalidParameterValueException", "Type": "User", "message": "Layer Version Cannot be less than 1"})
    );
    let (status, code, body) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("ResourceNotFoundException"))
    );
    assert_eq!(
        body,
        json!({"__type": "ResourceNotFoundException", "Type": "User", "Message": NOT_FOUND})
    );
}

#[tokio::test]
async fn get_layer_version_by_name_arn_and_find() {
    let app = spawn_app().await;
    publish_zip(&app, &app.account, "l").await;
    let arn = layer_arn(&app.account, "l");
    let (status, _, by_name) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, by_arn) = call(
        &app,
        &app.account,
        "GET",
        &format!("/2018-10-31/layers/{}/versions/1", enc(&arn)),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, found) = call(
        &app,
        &app.account,
        "GET",
        &format!(
            "/2018-10-31/layers?find=LayerVersion&Arn={}",
            enc(&format!("{arn}:1"))
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    for b in [&by_arn, &found] {
        assert_eq!(b["LayerVersionArn"], by_name["LayerVersionArn"]);
        assert_eq!(b["Content"]["CodeSha256"], by_name["Content"]["CodeSha256"]);
    }
    let (status, code, body) = call(
        &app,
        &app.account,
        "GET",
        &format!("/2018-10-31/layers?find=LayerVersion&Arn={}", enc(&arn)),
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    assert_eq!(body["message"].as_str().unwrap(), format!("1 validation error detected: Value '{arn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{{2}}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{{1}}:\\d{{12}}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"));
    let (status, _, body) = call(
        &app,
        &app.account,
        "GET",
        &format!(
            "/2018-10-31/layers?find=LayerVersion&Arn={}",
            enc(&format!("{arn}:7"))
        ),
        None,
    )
    .await;
    assert_eq!((status, body["Message"].as_str()), (404, Some(NOT_FOUND)));
    let (status, code, _) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/x",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("SerializationException"))
    );
    let other_region = arn.replace("us-east-1", "eu-west-1");
    let (status, code, body) = call(
        &app,
        &app.account,
        "GET",
        &format!("/2018-10-31/layers/{}/versions/1", enc(&other_region)),
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("ResourceNotFoundException"))
    );
    assert_eq!(
        body["Message"],
        "Layers from 'eu-west-1' are not reachable from us-east-1"
    );
}

#[tokio::test]
async fn list_layers_shows_the_latest_matching_version_of_own_layers_only() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    publish(
        &app,
        &app.account,
        "a",
        json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}, "CompatibleRuntimes": ["python3.12"]}),
    )
    .await;
    publish(
        &app,
        &app.account,
        "a",
        json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}, "CompatibleRuntimes": ["nodejs20.x"]}),
    )
    .await;
    publish_zip(&app, &app.account, "b").await;
    publish_zip(&app, &other, "theirs").await;

    let (_, _, body) = call(&app, &app.account, "GET", "/2018-10-31/layers", None).await;
    let names: Vec<&str> = body["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["LayerName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(body["Layers"][0]["LatestMatchingVersion"]["Version"], 2);
    assert!(body["Layers"][0]["LatestMatchingVersion"]
        .get("Content")
        .is_none());
    assert!(body.get("NextMarker").is_none());

    let (_, _, body) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers?CompatibleRuntime=python3.12",
        None,
    )
    .await;
    assert_eq!(body["Layers"].as_array().unwrap().len(), 1);
    assert_eq!(body["Layers"][0]["LatestMatchingVersion"]["Version"], 1);

    let (_, _, page1) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers?MaxItems=1",
        None,
    )
    .await;
    assert_eq!(page1["Layers"][0]["LayerName"], "a");
    let marker = page1["NextMarker"].as_str().unwrap();
    let (_, _, page2) = call(
        &app,
        &app.account,
        "GET",
        &format!("/2018-10-31/layers?MaxItems=1&Marker={marker}"),
        None,
    )
    .await;
    assert_eq!(page2["Layers"][0]["LayerName"], "b");
    assert!(page2.get("NextMarker").is_none());

    let (status, code, body) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers?MaxItems=51",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    assert_eq!(body["message"], "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50");
}

#[tokio::test]
async fn list_layer_versions_pages_newest_first() {
    let app = spawn_app().await;
    for _ in 0..5 {
        publish_zip(&app, &app.account, "l").await;
    }
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let q = marker
            .as_ref()
            .map(|m| format!("&Marker={m}"))
            .unwrap_or_default();
        let (status, _, body) = call(
            &app,
            &app.account,
            "GET",
            &format!("/2018-10-31/layers/l/versions?MaxItems=2{q}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        seen.extend(
            body["LayerVersions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["Version"].as_i64().unwrap()),
        );
        match body.get("NextMarker").and_then(Value::as_str) {
            Some(m) => marker = Some(m.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    let (status, _, body) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/unknown/versions",
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!({"LayerVersions": []})));
    let arn = enc(&layer_arn(&app.account, "l"));
    let (_, _, body) = call(
        &app,
        &app.account,
        "GET",
        &format!("/2018-10-31/layers/{arn}/versions"),
        None,
    )
    .await;
    assert_eq!(body["LayerVersions"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn list_layer_versions_filters_by_runtime_and_architecture_and_bounds_max_items() {
    let app = spawn_app().await;
    for (runtimes, architectures) in [
        (json!(["python3.12"]), json!(["x86_64"])),
        (json!(["nodejs20.x"]), json!(["arm64"])),
        (json!(["python3.12", "nodejs20.x"]), json!(["arm64"])),
    ] {
        let (status, _, body) = publish(
            &app,
            &app.account,
            "f",
            json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}, "CompatibleRuntimes": runtimes,
                   "CompatibleArchitectures": architectures}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let versions = |body: &Value| -> Vec<i64> {
        body["LayerVersions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["Version"].as_i64().unwrap())
            .collect()
    };
    for (query, expected) in [
        ("CompatibleRuntime=python3.12", vec![3, 1]),
        ("CompatibleArchitecture=arm64", vec![3, 2]),
        (
            "CompatibleRuntime=nodejs20.x&CompatibleArchitecture=arm64",
            vec![3, 2],
        ),
        (
            "CompatibleRuntime=python3.12&CompatibleArchitecture=x86_64",
            vec![1],
        ),
        ("CompatibleRuntime=java21", vec![]),
    ] {
        let (status, _, body) = call(
            &app,
            &app.account,
            "GET",
            &format!("/2018-10-31/layers/f/versions?{query}"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(versions(&body), expected, "{query}");
    }
    for (max_items, message) in [
        ("0", "1 validation error detected: Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        ("51", "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50"),
    ] {
        let (status, code, body) = call(
            &app,
            &app.account,
            "GET",
            &format!("/2018-10-31/layers/f/versions?MaxItems={max_items}"),
            None,
        )
        .await;
        assert_eq!((status, code.as_deref()), (400, Some("ValidationException")));
        assert_eq!(body["message"], message);
    }
}

#[tokio::test]
async fn policy_lifecycle_matches_aws() {
    let app = spawn_app().await;
    publish_zip(&app, &app.account, "l").await;
    let other = app.create_account(None).await;

    let (status, code, body) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1/policy",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("ResourceNotFoundException"))
    );
    assert_eq!(
        body["Message"],
        "No policy is associated with the given resource."
    );

    let (status, _, added) = add(
        &app,
        &app.account,
        "l",
        1,
        "",
        grant("xaccount", &other.account_id),
    )
    .await;
    assert_eq!(status, 201);
    let resource = format!("{}:1", layer_arn(&app.account, "l"));
    let s1 = format!(
        r#"{{"Sid":"xaccount","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":"lambda:GetLayerVersion","Resource":"{resource}"}}"#,
        other.account_id
    );
    assert_eq!(added["Statement"], s1);
    let rev1 = added["RevisionId"].as_str().unwrap().to_owned();
    uuid::Uuid::parse_str(&rev1).unwrap();

    let (status, _, got) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1/policy",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["RevisionId"], rev1.as_str());
    assert_eq!(
        got["Policy"],
        format!(r#"{{"Version":"2012-10-17","Id":"default","Statement":[{s1}]}}"#)
    );

    let (status, _, added2) = add(&app, &app.account, "l", 1, &format!("?RevisionId={rev1}"), json!({"StatementId": "public", "Action": "lambda:GetLayerVersion", "Principal": "*", "OrganizationId": "o-abcdefghij"})).await;
    assert_eq!(status, 201);
    let s2 = format!(
        r#"{{"Sid":"public","Effect":"Allow","Principal":"*","Action":"lambda:GetLayerVersion","Resource":"{resource}","Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"o-abcdefghij"}}}}}}"#
    );
    assert_eq!(added2["Statement"], s2);
    let rev2 = added2["RevisionId"].as_str().unwrap().to_owned();
    assert_ne!(rev1, rev2);
    let (_, _, got) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1/policy",
        None,
    )
    .await;
    assert_eq!(
        got["Policy"],
        format!(r#"{{"Version":"2012-10-17","Id":"default","Statement":[{s1},{s2}]}}"#)
    );

    // Stale revision on add and remove: 412, nothing changes.
    let (status, code, body) = add(
        &app,
        &app.account,
        "l",
        1,
        &format!("?RevisionId={rev1}"),
        grant("s3", "*"),
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (412, Some("PreconditionFailedException"))
    );
    assert_eq!(
        body,
        json!({"__type": "PreconditionFailedException", "Type": "User", "message": STALE})
    );
    let (status, _, _) = call(
        &app,
        &app.account,
        "DELETE",
        &format!("/2018-10-31/layers/l/versions/1/policy/public?RevisionId={rev1}"),
        None,
    )
    .await;
    assert_eq!(status, 412);
    assert_eq!(statement_count(&app).await, 2);

    // Duplicate id (also with a stale revision): 409.
    for q in ["".to_owned(), format!("?RevisionId={rev1}")] {
        let (status, code, body) =
            add(&app, &app.account, "l", 1, &q, grant("xaccount", "*")).await;
        assert_eq!(
            (status, code.as_deref()),
            (409, Some("ResourceConflictException"))
        );
        assert_eq!(body["message"], "The statement id (xaccount) provided already exists. Please provide a new statement id, or remove the existing statement.");
    }

    let (status, code, body) = call(
        &app,
        &app.account,
        "DELETE",
        "/2018-10-31/layers/l/versions/1/policy/doesnotexist",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("ResourceNotFoundException"))
    );
    assert_eq!(
        body["Message"],
        "Statement doesnotexist is not found in resource policy."
    );

    let (status, _, body) = call(
        &app,
        &app.account,
        "DELETE",
        &format!("/2018-10-31/layers/l/versions/1/policy/public?RevisionId={rev2}"),
        None,
    )
    .await;
    assert_eq!((status, body), (204, Value::Null));
    let (_, _, got) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1/policy",
        None,
    )
    .await;
    let rev3 = got["RevisionId"].as_str().unwrap();
    assert_ne!(rev3, rev2);
    assert_eq!(
        got["Policy"],
        format!(r#"{{"Version":"2012-10-17","Id":"default","Statement":[{s1}]}}"#)
    );
    let (status, _, _) = call(
        &app,
        &app.account,
        "DELETE",
        "/2018-10-31/layers/l/versions/1/policy/xaccount",
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, body) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/l/versions/1/policy",
        None,
    )
    .await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (
            404,
            Some("No policy is associated with the given resource.")
        )
    );
    assert_eq!(statement_count(&app).await, 0);
    assert_policy_sizes_match(&app).await;
}

#[tokio::test]
async fn add_permission_validation_and_missing_versions() {
    let app = spawn_app().await;
    publish_zip(&app, &app.account, "l").await;
    let cases = [
        (json!({"StatementId": "s", "Action": "*", "Principal": "*"}), "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion"),
        (json!({"StatementId": "bad id!", "Action": "lambda:GetLayerVersion", "Principal": "*"}), "1 validation error detected: Value 'bad id!' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"),
        (json!({"StatementId": "s", "Action": "lambda:GetLayerVersion", "Principal": "not-an-account"}), "1 validation error detected: Value 'not-an-account' at 'principal' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root"),
        (json!({"StatementId": "s", "Action": "lambda:GetLayerVersion", "Principal": "*", "OrganizationId": "o-x"}), "1 validation error detected: Value 'o-x' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}"),
        (json!({}), "3 validation errors detected: Value null at 'statementId' failed to satisfy constraint: Member must not be null; Value null at 'action' failed to satisfy constraint: Member must not be null; Value null at 'principal' failed to satisfy constraint: Member must not be null"),
    ];
    for (body, message) in cases {
        let (status, code, answer) = add(&app, &app.account, "l", 1, "", body.clone()).await;
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("ValidationException")),
            "{body}"
        );
        assert_eq!(
            answer,
            json!({"__type": "ValidationException", "message": message})
        );
    }
    let (status, code, _) = add(&app, &app.account, "l", 1, "", json!({"StatementId": "s", "Action": "lambda:GetLayerVersion", "Principal": "123456789012", "OrganizationId": "o-abcdefghij"})).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidParameterValueException"))
    );
    let (status, code, _) = add(&app, &app.account, "l", 0, "", grant("s", "*")).await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidParameterValueException"))
    );
    for (layer, version) in [("nolayer", 1), ("l", 2)] {
        let message = format!(
            "Layer version {}:{version} does not exist.",
            layer_arn(&app.account, layer)
        );
        let (status, code, body) =
            add(&app, &app.account, layer, version, "", grant("s", "*")).await;
        assert_eq!(
            (status, code.as_deref(), body["Message"].as_str()),
            (
                404,
                Some("ResourceNotFoundException"),
                Some(message.as_str())
            )
        );
        let (status, _, body) = call(
            &app,
            &app.account,
            "GET",
            &format!("/2018-10-31/layers/{layer}/versions/{version}/policy"),
            None,
        )
        .await;
        assert_eq!(
            (status, body["Message"].as_str()),
            (404, Some(message.as_str()))
        );
        let (status, _, body) = call(
            &app,
            &app.account,
            "DELETE",
            &format!("/2018-10-31/layers/{layer}/versions/{version}/policy/s"),
            None,
        )
        .await;
        assert_eq!(
            (status, body["Message"].as_str()),
            (404, Some(message.as_str()))
        );
    }
    // The first add carrying a RevisionId cannot match anything.
    let (status, _, _) = add(
        &app,
        &app.account,
        "l",
        1,
        "?RevisionId=35d87451-f796-4a3f-a618-95a3671b0a0c",
        grant("s", "*"),
    )
    .await;
    assert_eq!(status, 412);
    assert_eq!(statement_count(&app).await, 0);
}

#[tokio::test]
async fn policy_size_is_limited_to_20480_bytes() {
    let app = spawn_app().await;
    publish_zip(&app, &app.account, "l").await;
    let get_policy = || async {
        let (status, _, got) = call(
            &app,
            &app.account,
            "GET",
            "/2018-10-31/layers/l/versions/1/policy",
            None,
        )
        .await;
        assert_eq!(status, 200);
        got["Policy"].as_str().unwrap().len()
    };
    let mut added = 0;
    let mut statement_len = 0;
    loop {
        let sid = format!("{}{added:04}", "s".repeat(90));
        let (status, code, body) =
            add(&app, &app.account, "l", 1, "", grant(&sid, "123456789012")).await;
        if status == 201 {
            added += 1;
            statement_len = body["Statement"].as_str().unwrap().len();
            continue;
        }
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("PolicyLengthExceededException"))
        );
        // The size named is the policy's with the refused statement: one more comma and
        // statement than what is stored.
        let size = get_policy().await;
        assert_eq!(
            body["message"].as_str().unwrap(),
            format!(
                "The final policy size ({}) is bigger than the limit (20480).",
                size + 1 + statement_len
            )
        );
        assert!(size <= 20480 && size + 1 + statement_len > 20480);
        break;
    }
    assert_eq!(statement_count(&app).await, added);
    assert_policy_sizes_match(&app).await;

    // A removal frees its bytes: the next add fits again, and a duplicate id is still a
    // conflict, not a size error, on a full policy.
    let (status, _, _) = call(
        &app,
        &app.account,
        "DELETE",
        &format!(
            "/2018-10-31/layers/l/versions/1/policy/{}0000",
            "s".repeat(90)
        ),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_policy_sizes_match(&app).await;
    let sid = format!("{}{:04}", "t".repeat(90), 0);
    let (status, _, _) = add(&app, &app.account, "l", 1, "", grant(&sid, "123456789012")).await;
    assert_eq!(status, 201);
    let (status, code, _) = add(&app, &app.account, "l", 1, "", grant(&sid, "123456789012")).await;
    assert_eq!(
        (status, code.as_deref()),
        (409, Some("ResourceConflictException"))
    );
    assert!(get_policy().await <= 20480);
    assert_eq!(statement_count(&app).await, added);
    assert_policy_sizes_match(&app).await;
}

#[tokio::test]
async fn cross_account_reads_follow_the_version_policy() {
    let app = spawn_app().await;
    let owner = &app.account;
    let grantee = app.create_account(None).await;
    let stranger = app.create_account(None).await;
    let org_member = app.create_account(Some("o-abcdefghij")).await;
    publish_zip(&app, owner, "l").await;
    publish_zip(&app, owner, "l").await;
    let arn = layer_arn(owner, "l");
    let get = |who: TestAccount, v: i64| {
        let path = format!("/2018-10-31/layers/{}/versions/{v}", enc(&arn));
        let app = &app;
        async move { call(app, &who, "GET", &path, None).await }
    };
    let by_arn = |who: TestAccount, v: i64| {
        let path = format!(
            "/2018-10-31/layers?find=LayerVersion&Arn={}",
            enc(&format!("{arn}:{v}"))
        );
        let app = &app;
        async move { call(app, &who, "GET", &path, None).await }
    };

    let denied = |who: &TestAccount, v: i64| {
        format!(
        "User: arn:aws:iam::{}:root is not authorized to perform: lambda:GetLayerVersion on resource: {arn}:{v} because no resource-based policy allows the lambda:GetLayerVersion action",
        who.account_id
    )
    };
    let (status, code, body) = get(grantee.clone(), 1).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("AccessDeniedException"))
    );
    assert_eq!(body["Message"], denied(&grantee, 1));

    add(&app, owner, "l", 1, "", grant("g", &grantee.account_id)).await;
    let (status, _, got) = get(grantee.clone(), 1).await;
    assert_eq!(status, 200);
    assert_eq!(got["LayerVersionArn"], format!("{arn}:1"));
    let location = got["Content"]["Location"].as_str().unwrap().to_owned();
    assert_eq!(
        reqwest::get(&location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        EMPTY_ZIP
    );
    assert_eq!(by_arn(grantee.clone(), 1).await.0, 200);
    // The grant is per version; strangers and other versions stay closed, and a version
    // that does not exist answers exactly like one that is not granted.
    assert_eq!(get(grantee.clone(), 2).await.0, 403);
    let (status, _, body) = get(grantee.clone(), 99).await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (403, Some(denied(&grantee, 99).as_str()))
    );
    assert_eq!(get(stranger.clone(), 1).await.0, 403);
    assert_eq!(by_arn(stranger.clone(), 1).await.0, 403);
    assert_eq!(get(org_member.clone(), 1).await.0, 403);

    // Organization grant.
    add(&app, owner, "l", 1, "", json!({"StatementId": "org", "Action": "lambda:GetLayerVersion", "Principal": "*", "OrganizationId": "o-abcdefghij"})).await;
    assert_eq!(get(org_member.clone(), 1).await.0, 200);
    assert_eq!(get(stranger.clone(), 1).await.0, 403);
    // Public grant.
    add(&app, owner, "l", 2, "", grant("public", "*")).await;
    assert_eq!(get(stranger.clone(), 2).await.0, 200);

    // Revoking closes the version and the download URL handed out before.
    call(
        &app,
        owner,
        "DELETE",
        "/2018-10-31/layers/l/versions/1/policy/g",
        None,
    )
    .await;
    assert_eq!(get(grantee.clone(), 1).await.0, 403);
    assert_eq!(reqwest::get(&location).await.unwrap().status(), 403);
}

#[tokio::test]
async fn foreign_layers_are_closed_to_every_other_operation() {
    let app = spawn_app().await;
    let owner = &app.account;
    let other = app.create_account(None).await;
    publish_zip(&app, owner, "l").await;
    add(&app, owner, "l", 1, "", grant("public", "*")).await;
    let arn = enc(&layer_arn(owner, "l"));
    let before: (i64, i64) = sqlx::query_as("SELECT (SELECT count(*) FROM layer_versions), (SELECT count(*) FROM layer_version_statements)")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            format!("/2018-10-31/layers/{arn}/versions/1/policy"),
            Some(grant("mine", &other.account_id)),
        ),
        (
            "GET",
            format!("/2018-10-31/layers/{arn}/versions/1/policy"),
            None,
        ),
        (
            "DELETE",
            format!("/2018-10-31/layers/{arn}/versions/1/policy/public"),
            None,
        ),
        (
            "DELETE",
            format!("/2018-10-31/layers/{arn}/versions/1"),
            None,
        ),
        ("GET", format!("/2018-10-31/layers/{arn}/versions"), None),
        (
            "POST",
            format!("/2018-10-31/layers/{arn}/versions"),
            Some(json!({"Content": {"ZipFile": b64(EMPTY_ZIP)}})),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, code, _) = call(&app, &other, method, &path, body).await;
        assert_eq!(
            (status, code.as_deref()),
            (403, Some("AccessDeniedException")),
            "{method} {path}"
        );
    }
    let after: (i64, i64) = sqlx::query_as("SELECT (SELECT count(*) FROM layer_versions), (SELECT count(*) FROM layer_version_statements)")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
    let (_, _, listed) = call(&app, &other, "GET", "/2018-10-31/layers", None).await;
    assert_eq!(listed, json!({"Layers": []}));
}

#[tokio::test]
async fn signatures_cover_encoded_path_labels() {
    let app = spawn_app().await;
    publish_zip(&app, &app.account, "l").await;
    // `%3A` in a layer ARN label is double-encoded in the canonical request.
    let arn = enc(&layer_arn(&app.account, "l"));
    let (status, _, _) = call(
        &app,
        &app.account,
        "GET",
        &format!("/2018-10-31/layers/{arn}/versions/1"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    // `&` inside a label: the signature verifies, then the name is refused by validation.
    let (status, code, _) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/a%26b/versions",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    // `%2F` never becomes a path separator.
    let (status, code, _) = call(
        &app,
        &app.account,
        "GET",
        "/2018-10-31/layers/a%2Fb/versions",
        None,
    )
    .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
}
