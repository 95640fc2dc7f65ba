//! Users, tokens and groups (issue 4 items 1–2, aws-wire.md §6.1, §6.3, §7): CreateUser,
//! DescribeUsers, GetCurrentUser, Activate/Deactivate/UpdateUser, our login and token
//! revocation, DescribeGroups and the group administration endpoints, and the
//! `grantd admin` commands for users, tokens and groups.

use crate::helpers::{parts, spawn_app, TestAccount, TestApp};
use crate::process::{data_dir, run, Grantd};
use crate::workdocs_helpers::{enc, Auth, WdUser};
use grantd::tenancy::AccountId;
use serde_json::{json, Value};
use std::str::FromStr;

const NOT_AUTHENTICATED: &str = "The authentication token is not valid or has expired.";
const BAD_LOGIN: &str = "The username or password is incorrect.";
const BAD_PAGING: &str = "The pagination marker or limit fields are not valid.";

fn new_user(username: &str, given: &str, surname: &str) -> Value {
    json!({"Username": username, "GivenName": given, "Surname": surname, "Password": "s3cret-Pass"})
}

/// CreateUser as the account's administrator; the created `User`.
async fn create(app: &TestApp, account: &TestAccount, body: Value) -> Value {
    let (status, code, out) = app
        .wd(Auth::Admin(account), "POST", "/api/v1/users", Some(body))
        .await;
    assert_eq!((status, code), (201, None), "{out}");
    out["User"].clone()
}

async fn user_status(app: &TestApp, user_id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM wd_users WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM wd_users")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn login(app: &TestApp, body: Value) -> (u16, Option<String>, Value) {
    app.wd(Auth::None, "POST", "/api/v1/grantd/login", Some(body))
        .await
}

fn usernames(body: &Value) -> Vec<String> {
    body["Users"]
        .as_array()
        .unwrap_or_else(|| panic!("no Users in {body}"))
        .iter()
        .map(|u| u["Username"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts that an answer is a refusal with this status and code; its body.
fn refused(answer: (u16, Option<String>, Value), status: u16, code: &str) -> Value {
    let (got, got_code, body) = answer;
    assert_eq!((got, got_code.as_deref()), (status, Some(code)), "{body}");
    body
}

fn unauthorized_operation(principal: &str, op: &str) -> Value {
    json!({
        "__type": "UnauthorizedOperationException",
        "Message": format!("Principal [{principal}] does not have the role required to execute [workdocs:{op}] on the resource."),
    })
}

fn entity_not_exists(id: &str) -> Value {
    json!({
        "__type": "EntityNotExistsException",
        "Message": format!("The resource {id} does not exist."),
        "EntityIds": [id],
    })
}

fn not_visible(account: &TestAccount, op: &str) -> Value {
    json!({
        "__type": "UnauthorizedResourceAccessException",
        "Message": format!("Principal [arn:aws:iam::{}:root] is not allowed to execute [workdocs:{op}] on the resource.", account.account_id),
    })
}

fn validation(message: &str) -> Value {
    json!({"__type": "ValidationException", "Message": message})
}

// CreateUser

#[tokio::test]
async fn create_user_returns_201_with_the_user_and_its_root_folder_and_recycle_bin() {
    let app = spawn_app().await;
    let mut body = new_user("alice", "Alice", "Liddell");
    body["EmailAddress"] = json!("alice@example.com");
    body["TimeZoneId"] = json!("Europe/Paris");
    body["OrganizationId"] = json!(app.account.directory_id);
    let user = create(&app, &app.account, body).await;

    let id = user["Id"].as_str().unwrap();
    assert!(id.starts_with("S-1-1-11-"), "{id}");
    assert!(
        id.ends_with(&format!("&{}", app.account.directory_id)),
        "{id}"
    );
    assert_eq!(user["Username"], "alice");
    assert_eq!(user["EmailAddress"], "alice@example.com");
    assert_eq!(user["GivenName"], "Alice");
    assert_eq!(user["Surname"], "Liddell");
    assert_eq!(user["OrganizationId"], app.account.directory_id.as_str());
    assert_eq!(user["Status"], "ACTIVE");
    assert_eq!(user["Type"], "USER");
    assert_eq!(user["TimeZoneId"], "Europe/Paris");
    assert!(user.get("Password").is_none());
    let now = chrono::Utc::now().timestamp() as f64;
    for ts in ["CreatedTimestamp", "ModifiedTimestamp"] {
        let t = user[ts]
            .as_f64()
            .unwrap_or_else(|| panic!("{ts} is a number: {user}"));
        assert!((t - now).abs() < 60.0, "{ts} {t} is about now");
    }
    assert_eq!(
        user["Storage"],
        json!({"StorageUtilizedInBytes": 0, "StorageRule": {"StorageType": "UNLIMITED"}})
    );

    let folders: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT resource_id, special, kind, parent_id FROM wd_resources WHERE owner_id = $1 ORDER BY special",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        folders,
        vec![
            (
                user["RecycleBinFolderId"].as_str().unwrap().to_owned(),
                "RECYCLE_BIN".to_owned(),
                "FOLDER".to_owned(),
                None
            ),
            (
                user["RootFolderId"].as_str().unwrap().to_owned(),
                "ROOT".to_owned(),
                "FOLDER".to_owned(),
                None
            ),
        ]
    );
    for folder in [&folders[0].0, &folders[1].0] {
        assert!(folder.len() == 64 && folder.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[tokio::test]
async fn create_user_stores_only_an_argon2id_hash_of_the_password() {
    let app = spawn_app().await;
    let user = create(&app, &app.account, new_user("alice", "Alice", "L")).await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM wd_users WHERE user_id = $1")
        .bind(user["Id"].as_str().unwrap())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let row: String = sqlx::query_scalar("SELECT wd_users::text FROM wd_users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!row.contains("s3cret-Pass"), "{row}");
}

#[tokio::test]
async fn create_user_with_a_taken_username_in_any_case_is_409_and_creates_nothing() {
    let app = spawn_app().await;
    create(&app, &app.account, new_user("alice", "Alice", "L")).await;
    let resources = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM wd_resources")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = resources().await;
    let body = refused(
        app.wd(
            Auth::Admin(&app.account),
            "POST",
            "/api/v1/users",
            Some(new_user("ALICE", "Other", "Person")),
        )
        .await,
        409,
        "EntityAlreadyExistsException",
    );
    assert_eq!(
        body,
        json!({"__type": "EntityAlreadyExistsException", "Message": "A user with this username already exists in the organization."})
    );
    assert_eq!(user_count(&app).await, 1);
    assert_eq!(resources().await, before);

    // Usernames are per organization: another tenant may have its own alice.
    let other = app.create_account(None).await;
    create(&app, &other, new_user("alice", "Alice", "Elsewhere")).await;
}

#[tokio::test]
async fn create_user_validates_every_member_without_echoing_sensitive_values() {
    let app = spawn_app().await;
    let body = refused(
        app.wd(
            Auth::Admin(&app.account),
            "POST",
            "/api/v1/users",
            Some(json!({})),
        )
        .await,
        400,
        "ValidationException",
    );
    assert_eq!(
        body,
        validation(
            "4 validation errors detected: \
             Value null at 'username' failed to satisfy constraint: Member must not be null; \
             Value null at 'givenName' failed to satisfy constraint: Member must not be null; \
             Value null at 'surname' failed to satisfy constraint: Member must not be null; \
             Value null at 'password' failed to satisfy constraint: Member must not be null"
        )
    );

    let (status, _, body) = app
        .wd(
            Auth::Admin(&app.account),
            "POST",
            "/api/v1/users",
            Some(json!({
                "OrganizationId": "d-bad/dir",
                "Username": "bad name",
                "EmailAddress": "nope",
                "GivenName": "G".repeat(65),
                "Surname": "S",
                "Password": "abc",
                "TimeZoneId": "",
                "StorageRule": {"StorageAllocatedInBytes": -1, "StorageType": "LOTS"},
            })),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        validation(
            "8 validation errors detected: \
             Value 'd-bad/dir' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: [&\\w+-.@]+; \
             Value at 'username' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\-+.]+(@[a-zA-Z0-9.\\-]+\\.[a-zA-Z]+)?; \
             Value at 'emailAddress' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}; \
             Value at 'givenName' failed to satisfy constraint: Member must have length less than or equal to 64; \
             Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 4; \
             Value '' at 'timeZoneId' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value '-1' at 'storageRule.storageAllocatedInBytes' failed to satisfy constraint: Member must have value greater than or equal to 0; \
             Value 'LOTS' at 'storageRule.storageType' failed to satisfy constraint: Member must satisfy enum value set: [UNLIMITED, QUOTA]"
        )
    );

    // Passwords: 4 to 32 characters of U+0020..U+00FF.
    for (password, constraint) in [
        (
            "x".repeat(33),
            "Member must have length less than or equal to 32",
        ),
        (
            "tab\there".into(),
            "Member must satisfy regular expression pattern: [\\u0020-\\u00FF]+",
        ),
        (
            "€uro-sign".into(),
            "Member must satisfy regular expression pattern: [\\u0020-\\u00FF]+",
        ),
    ] {
        let mut body = new_user("bob", "Bob", "B");
        body["Password"] = json!(password);
        let (status, _, out) = app
            .wd(
                Auth::Admin(&app.account),
                "POST",
                "/api/v1/users",
                Some(body),
            )
            .await;
        assert_eq!(status, 400);
        assert_eq!(
            out["Message"],
            format!("1 validation error detected: Value at 'password' failed to satisfy constraint: {constraint}")
        );
        assert!(!out.to_string().contains(&password));
    }
    let mut body = new_user("bob", "Bob", "B");
    body["Password"] = json!("pässwörd ok");
    create(&app, &app.account, body).await;
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn create_user_with_a_malformed_body_is_a_serialization_error() {
    let app = spawn_app().await;
    for raw in [&b"{\"Username\": "[..], b"{\"Username\": 7}"] {
        let res = app
            .signed(&app.account, "POST", "/api/v1/users")
            .service("workdocs")
            .header("content-type", "application/json")
            .body(raw.to_vec())
            .send()
            .await;
        let body = refused(parts(res).await, 400, "SerializationException");
        assert_eq!(body["__type"], "SerializationException");
    }
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn create_user_is_for_the_accounts_administrators_only() {
    let app = spawn_app().await;
    let admin_type = app.wd_user(&app.account, "boss").await;
    sqlx::query("UPDATE wd_users SET user_type = 'ADMIN' WHERE user_id = $1")
        .bind(&admin_type.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let body = refused(
        app.wd(
            Auth::Token(&admin_type.token),
            "POST",
            "/api/v1/users",
            Some(new_user("eve", "Eve", "E")),
        )
        .await,
        403,
        "UnauthorizedOperationException",
    );
    assert_eq!(body, unauthorized_operation(&admin_type.id, "CreateUser"));

    refused(
        app.wd(
            Auth::None,
            "POST",
            "/api/v1/users",
            Some(new_user("eve", "Eve", "E")),
        )
        .await,
        403,
        "MissingAuthenticationTokenException",
    );
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn create_user_in_another_organization_is_not_visible() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    for org in [other.directory_id.as_str(), "d-0000000000"] {
        let mut body = new_user("alice", "Alice", "L");
        body["OrganizationId"] = json!(org);
        let out = refused(
            app.wd(
                Auth::Admin(&app.account),
                "POST",
                "/api/v1/users",
                Some(body),
            )
            .await,
            404,
            "UnauthorizedResourceAccessException",
        );
        assert_eq!(out, not_visible(&app.account, "CreateUser"));
    }
    assert_eq!(user_count(&app).await, 0);
}

// DescribeUsers

/// The model's example: "Ma" finds Márcia Oliveira, María García and Mateo Jackson;
/// "Ma J" only Mateo Jackson.
async fn model_example_users(app: &TestApp) {
    for (username, given, surname) in [
        ("moliveira", "Márcia", "Oliveira"),
        ("mgarcia", "María", "García"),
        ("mjackson", "Mateo", "Jackson"),
        ("jsmith", "John", "Smith"),
    ] {
        create(app, &app.account, new_user(username, given, surname)).await;
    }
}

async fn describe(app: &TestApp, auth: Auth<'_>, query: &str) -> (u16, Option<String>, Value) {
    app.wd(auth, "GET", &format!("/api/v1/users{query}"), None)
        .await
}

#[tokio::test]
async fn describe_users_query_matches_every_token_as_a_prefix_of_a_name() {
    let app = spawn_app().await;
    model_example_users(&app).await;
    let admin = Auth::Admin(&app.account);
    for (query, expected) in [
        ("Ma", vec!["mgarcia", "mjackson", "moliveira"]),
        ("Ma%20J", vec!["mjackson"]),
        ("ma%20j", vec!["mjackson"]),
        ("J%20Ma", vec!["mjackson"]),
        ("M%C3%A1rcia", vec!["moliveira"]),
        ("GARC", vec!["mgarcia"]),
        ("js", vec!["jsmith"]),
        ("son", vec![]),
        ("Ma%20Smith", vec![]),
        ("%20%20Ma%20%20%20J%20", vec!["mjackson"]),
    ] {
        let (status, _, body) = describe(&app, admin, &format!("?query={query}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(usernames(&body), expected, "query {query}");
    }
    let (_, _, all) = describe(&app, admin, "").await;
    assert_eq!(
        usernames(&all),
        vec!["jsmith", "mgarcia", "mjackson", "moliveira"]
    );
}

#[tokio::test]
async fn describe_users_takes_like_metacharacters_literally() {
    let app = spawn_app().await;
    for (username, given) in [("under_score", "A_c"), ("plain", "Abc"), ("pct", "50%off")] {
        create(&app, &app.account, new_user(username, given, "X")).await;
    }
    let admin = Auth::Admin(&app.account);
    for (query, expected) in [
        ("A_", vec!["under_score"]),
        ("%25", vec![]),
        ("50%25", vec!["pct"]),
        ("_", vec![]),
        ("%5C", vec![]),
        ("under_", vec!["under_score"]),
    ] {
        let (_, _, body) = describe(&app, admin, &format!("?query={query}")).await;
        assert_eq!(usernames(&body), expected, "query {query}");
    }
}

#[tokio::test]
async fn describe_users_user_ids_win_over_query() {
    let app = spawn_app().await;
    let a = create(&app, &app.account, new_user("anna", "Anna", "A")).await;
    let b = create(&app, &app.account, new_user("bert", "Bert", "B")).await;
    create(&app, &app.account, new_user("carl", "Carl", "C")).await;
    let ids = format!(
        "{},%20{}",
        enc(a["Id"].as_str().unwrap()),
        enc(b["Id"].as_str().unwrap())
    );
    let (status, _, body) = describe(
        &app,
        Auth::Admin(&app.account),
        &format!("?userIds={ids}&query=carl"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(usernames(&body), vec!["anna", "bert"]);
}

#[tokio::test]
async fn describe_users_hides_inactive_users_unless_include_is_all() {
    let app = spawn_app().await;
    let gone = create(&app, &app.account, new_user("gone", "Gone", "G")).await;
    create(&app, &app.account, new_user("here", "Here", "H")).await;
    let (status, _, _) = app
        .wd(
            Auth::Admin(&app.account),
            "DELETE",
            &format!(
                "/api/v1/users/{}/activation",
                enc(gone["Id"].as_str().unwrap())
            ),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let admin = Auth::Admin(&app.account);
    for (query, expected) in [
        ("", vec!["here"]),
        ("?include=ACTIVE_PENDING", vec!["here"]),
        ("?include=ALL", vec!["gone", "here"]),
    ] {
        let (_, _, body) = describe(&app, admin, query).await;
        assert_eq!(usernames(&body), expected, "{query}");
    }
    let (_, _, body) = describe(&app, admin, "?include=ALL&query=go").await;
    assert_eq!(body["Users"][0]["Status"], "INACTIVE");
}

#[tokio::test]
async fn describe_users_sorts_orders_and_pages_with_markers() {
    let app = spawn_app().await;
    for (username, given) in [
        ("c", "Zed"),
        ("a", "Yan"),
        ("e", "Xia"),
        ("b", "Wu"),
        ("d", "Vic"),
    ] {
        create(&app, &app.account, new_user(username, given, "Q")).await;
    }
    let admin = Auth::Admin(&app.account);
    let pages = |query: &'static str| {
        let app = &app;
        async move {
            let mut seen = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let q = match &marker {
                    Some(m) => format!("{query}&marker={}", enc(m)),
                    None => query.to_owned(),
                };
                let (status, _, body) = describe(app, admin, &q).await;
                assert_eq!(status, 200, "{body}");
                let page = usernames(&body);
                assert!(page.len() <= 2);
                seen.push(page);
                match body.get("Marker") {
                    Some(m) => marker = Some(m.as_str().unwrap().to_owned()),
                    None => break,
                }
            }
            seen
        }
    };
    assert_eq!(
        pages("?limit=2").await,
        vec![vec!["a", "b"], vec!["c", "d"], vec!["e"]]
    );
    assert_eq!(
        pages("?limit=2&order=DESCENDING").await,
        vec![vec!["e", "d"], vec!["c", "b"], vec!["a"]]
    );
    assert_eq!(
        pages("?limit=2&sort=FULL_NAME").await,
        vec![vec!["d", "b"], vec!["e", "a"], vec!["c"]]
    );
    let (_, _, body) = describe(&app, admin, "?limit=5").await;
    assert!(body.get("Marker").is_none(), "{body}");
    let (_, _, body) = describe(&app, admin, "?sort=USER_STATUS&order=DESCENDING").await;
    assert_eq!(usernames(&body).len(), 5);
}

#[tokio::test]
async fn describe_users_with_a_bad_limit_or_marker_is_invalid_argument() {
    let app = spawn_app().await;
    create(&app, &app.account, new_user("a", "A", "A")).await;
    use base64::Engine as _;
    let not_json = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("not json");
    for query in [
        "?limit=0".to_owned(),
        "?limit=1000".to_owned(),
        "?limit=ten".to_owned(),
        "?limit=".to_owned(),
        "?marker=%21%21%21".to_owned(),
        format!("?marker={not_json}"),
    ] {
        let (status, code, body) = describe(&app, Auth::Admin(&app.account), &query).await;
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("InvalidArgumentException")),
            "{query}"
        );
        assert_eq!(
            body,
            json!({"__type": "InvalidArgumentException", "Message": BAD_PAGING})
        );
    }
    let (status, _, _) = describe(&app, Auth::Admin(&app.account), "?limit=999").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn describe_users_validates_its_query_members() {
    let app = spawn_app().await;
    let admin = Auth::Admin(&app.account);
    let body = refused(
        describe(
            &app,
            admin,
            "?include=SOME&order=UP&sort=AGE&fields=a-b&query=a%09b&userIds=a%2Fb",
        )
        .await,
        400,
        "ValidationException",
    );
    assert_eq!(
        body,
        validation(
            "6 validation errors detected: \
             Value 'a/b' at 'userIds' failed to satisfy constraint: Member must satisfy regular expression pattern: [&\\w+-.@, ]+; \
             Value at 'query' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\uFFFF]+; \
             Value 'SOME' at 'include' failed to satisfy constraint: Member must satisfy enum value set: [ALL, ACTIVE_PENDING]; \
             Value 'UP' at 'order' failed to satisfy constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]; \
             Value 'AGE' at 'sort' failed to satisfy constraint: Member must satisfy enum value set: [USER_NAME, FULL_NAME, STORAGE_LIMIT, USER_STATUS, STORAGE_USED]; \
             Value 'a-b' at 'fields' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w,]+"
        )
    );
}

#[tokio::test]
async fn describe_users_adds_storage_only_when_asked() {
    let app = spawn_app().await;
    create(&app, &app.account, new_user("a", "A", "A")).await;
    let admin = Auth::Admin(&app.account);
    let (_, _, plain) = describe(&app, admin, "").await;
    assert!(plain["Users"][0].get("Storage").is_none(), "{plain}");
    assert!(plain["Users"][0]["CreatedTimestamp"].is_number());
    let (_, _, with) = describe(&app, admin, "?fields=STORAGE_METADATA").await;
    assert_eq!(
        with["Users"][0]["Storage"]["StorageRule"]["StorageType"],
        "UNLIMITED"
    );
}

#[tokio::test]
async fn describe_users_stays_inside_the_callers_tenant() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    let alice = app.wd_user(&app.account, "alice").await;
    let bob = app.wd_user(&other, "bob").await;

    // A's token sees A's users only, even when asking for B's by id or by name.
    let me = Auth::Token(&alice.token);
    let (status, _, body) = describe(&app, me, "").await;
    assert_eq!(status, 200);
    assert_eq!(usernames(&body), vec!["alice"]);
    let (_, _, body) = describe(&app, me, &format!("?userIds={}", enc(&bob.id))).await;
    assert_eq!(usernames(&body), Vec::<String>::new());
    let (_, _, body) = describe(&app, me, "?query=bob").await;
    assert_eq!(usernames(&body), Vec::<String>::new());

    // Naming B's organization is naming something A cannot see.
    let body = refused(
        describe(&app, me, &format!("?organizationId={}", other.directory_id)).await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(
        body["Message"],
        format!(
            "Principal [{}] is not allowed to execute [workdocs:DescribeUsers] on the resource.",
            alice.id
        )
    );
    let (status, _, body) = describe(
        &app,
        Auth::Admin(&other),
        &format!("?organizationId={}", other.directory_id),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(usernames(&body), vec!["bob"]);
}

// GetCurrentUser

#[tokio::test]
async fn get_current_user_is_the_tokens_user_and_refuses_sigv4() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let (status, _, body) = app
        .wd(Auth::Token(&alice.token), "GET", "/api/v1/me", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["User"]["Id"], alice.id.as_str());
    assert_eq!(body["User"]["Username"], "alice");
    assert_eq!(body["User"]["RootFolderId"], alice.root.as_str());
    assert!(body["User"]["ModifiedTimestamp"].is_number());

    // The bare token works too (the SDKs copy the member verbatim).
    let res = app
        .http
        .get(format!("{}/api/v1/me", app.address))
        .header("Authentication", &alice.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let body = refused(
        app.wd(Auth::Admin(&app.account), "GET", "/api/v1/me", None)
            .await,
        403,
        "UnauthorizedOperationException",
    );
    assert_eq!(
        body["Message"],
        "[workdocs:GetCurrentUser] is not a valid action for SigV4 (administrative API) clients."
    );
    refused(
        app.wd(Auth::None, "GET", "/api/v1/me", None).await,
        403,
        "MissingAuthenticationTokenException",
    );
}

// ActivateUser, DeactivateUser

#[tokio::test]
async fn a_deactivated_users_tokens_stop_at_once_and_stay_revoked_after_activation() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let me = Auth::Token(&alice.token);
    let admin = Auth::Admin(&app.account);
    let path = format!("/api/v1/users/{}/activation", enc(&alice.id));
    assert_eq!(app.wd(me, "GET", "/api/v1/me", None).await.0, 200);
    let modified_before: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM modified_at)::float8 FROM wd_users WHERE user_id = $1",
    )
    .bind(&alice.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();

    for _ in 0..2 {
        let res = app
            .signed(&app.account, "DELETE", &path)
            .service("workdocs")
            .send()
            .await;
        assert_eq!(res.status(), 204);
        assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");
        assert_eq!(user_status(&app, &alice.id).await, "INACTIVE");
    }
    let body = refused(
        app.wd(me, "GET", "/api/v1/me", None).await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(
        body,
        json!({"__type": "UnauthorizedResourceAccessException", "Message": NOT_AUTHENTICATED})
    );

    for _ in 0..2 {
        let (status, _, body) = app.wd(admin, "POST", &path, None).await;
        assert_eq!(status, 200);
        assert_eq!(body["User"]["Id"], alice.id.as_str());
        assert_eq!(body["User"]["Status"], "ACTIVE");
        assert!(body["User"]["ModifiedTimestamp"].as_f64().unwrap() >= modified_before);
    }
    assert_eq!(user_status(&app, &alice.id).await, "ACTIVE");
    // Tokens handed out before the deactivation stay revoked; a new one works.
    assert_eq!(app.wd(me, "GET", "/api/v1/me", None).await.0, 404);
    let revoked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM wd_tokens WHERE user_id = $1 AND revoked_at IS NOT NULL",
    )
    .bind(&alice.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(revoked, 1);
    let account_id = AccountId::from_str(&app.account.account_id).unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let fresh = grantd::workdocs::store::create_token(
        &mut conn,
        &account_id,
        &alice.id,
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(
        app.wd(Auth::Token(&fresh), "GET", "/api/v1/me", None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn user_administration_of_unknown_or_foreign_users_is_entity_not_exists() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    let stranger = app.wd_user(&other, "stranger").await;
    let unknown = format!("S-1-1-11-1-2-3-4&{}", app.account.directory_id);
    for id in [stranger.id.as_str(), unknown.as_str()] {
        let activation = format!("/api/v1/users/{}/activation", enc(id));
        for (method, path, body) in [
            ("POST", activation.clone(), None),
            ("DELETE", activation.clone(), None),
            (
                "PATCH",
                format!("/api/v1/users/{}", enc(id)),
                Some(json!({"GivenName": "X"})),
            ),
        ] {
            let (status, code, out) = app.wd(Auth::Admin(&app.account), method, &path, body).await;
            assert_eq!(
                (status, code.as_deref()),
                (404, Some("EntityNotExistsException")),
                "{method} {path}"
            );
            assert_eq!(out, entity_not_exists(id));
        }
    }
    assert_eq!(user_status(&app, &stranger.id).await, "ACTIVE");
    let given: String = sqlx::query_scalar("SELECT given_name FROM wd_users WHERE user_id = $1")
        .bind(&stranger.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(given, "stranger");
}

#[tokio::test]
async fn user_administration_is_for_the_accounts_administrators_only() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let activation = format!("/api/v1/users/{}/activation", enc(&bob.id));
    for (method, path, op, body) in [
        ("POST", activation.clone(), "ActivateUser", None),
        ("DELETE", activation.clone(), "DeactivateUser", None),
        (
            "PATCH",
            format!("/api/v1/users/{}", enc(&bob.id)),
            "UpdateUser",
            Some(json!({"Type": "ADMIN"})),
        ),
    ] {
        let out = refused(
            app.wd(Auth::Token(&alice.token), method, &path, body).await,
            403,
            "UnauthorizedOperationException",
        );
        assert_eq!(out, unauthorized_operation(&alice.id, op));
    }
    let (status, user_type): (String, String) =
        sqlx::query_as("SELECT status, user_type FROM wd_users WHERE user_id = $1")
            .bind(&bob.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), user_type.as_str()), ("ACTIVE", "USER"));
}

#[tokio::test]
async fn user_id_labels_are_validated() {
    let app = spawn_app().await;
    let body = refused(
        app.wd(
            Auth::Admin(&app.account),
            "POST",
            "/api/v1/users/not%20an%20id/activation",
            None,
        )
        .await,
        400,
        "ValidationException",
    );
    assert_eq!(
        body,
        validation("1 validation error detected: Value 'not an id' at 'userId' failed to satisfy constraint: Member must satisfy regular expression pattern: [&\\w+-.@]+")
    );
}

// UpdateUser

#[tokio::test]
async fn update_user_changes_the_given_members_only() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let path = format!("/api/v1/users/{}", enc(&alice.id));
    let admin = Auth::Admin(&app.account);
    let (status, _, body) = app
        .wd(
            admin,
            "PATCH",
            &path,
            Some(
                json!({"GivenName": "Alicia", "Locale": "fr", "TimeZoneId": "Europe/Paris",
                        "StorageRule": {"StorageAllocatedInBytes": 1048576}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let user = &body["User"];
    assert_eq!(user["GivenName"], "Alicia");
    assert_eq!(user["Surname"], "Test");
    assert_eq!(user["Locale"], "fr");
    assert_eq!(user["TimeZoneId"], "Europe/Paris");
    assert_eq!(user["Type"], "USER");
    assert_eq!(
        user["Storage"]["StorageRule"],
        json!({"StorageAllocatedInBytes": 1048576, "StorageType": "QUOTA"})
    );
    let stored: (String, String, Option<String>) =
        sqlx::query_as("SELECT given_name, surname, locale FROM wd_users WHERE user_id = $1")
            .bind(&alice.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, ("Alicia".into(), "Test".into(), Some("fr".into())));

    for (change, expected) in [
        (json!({"GrantPoweruserPrivileges": "TRUE"}), "POWERUSER"),
        (json!({"GrantPoweruserPrivileges": "FALSE"}), "USER"),
        (json!({"Type": "ADMIN"}), "ADMIN"),
        (json!({"GrantPoweruserPrivileges": "FALSE"}), "ADMIN"),
        (
            json!({"Type": "POWERUSER", "GrantPoweruserPrivileges": "TRUE"}),
            "POWERUSER",
        ),
    ] {
        let (status, _, body) = app.wd(admin, "PATCH", &path, Some(change.clone())).await;
        assert_eq!(status, 200, "{change}: {body}");
        assert_eq!(body["User"]["Type"], expected, "{change}");
    }

    let body = refused(
        app.wd(
            admin,
            "PATCH",
            &path,
            Some(json!({"Type": "ADMIN", "GrantPoweruserPrivileges": "TRUE"})),
        )
        .await,
        400,
        "InvalidArgumentException",
    );
    assert_eq!(
        body["Message"],
        "Type and GrantPoweruserPrivileges contradict each other."
    );

    let (status, _, body) = app
        .wd(
            admin,
            "PATCH",
            &path,
            Some(json!({"GivenName": "", "Type": "GUEST", "Locale": "xx", "GrantPoweruserPrivileges": "yes"})),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        validation(
            "4 validation errors detected: \
             Value at 'givenName' failed to satisfy constraint: Member must have length greater than or equal to 1; \
             Value 'GUEST' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [USER, ADMIN, POWERUSER, MINIMALUSER, WORKSPACESUSER]; \
             Value 'xx' at 'locale' failed to satisfy constraint: Member must satisfy enum value set: [en, fr, ko, de, es, ja, ru, zh_CN, zh_TW, pt_BR, default]; \
             Value 'yes' at 'grantPoweruserPrivileges' failed to satisfy constraint: Member must satisfy enum value set: [TRUE, FALSE]"
        )
    );
    let user_type: String = sqlx::query_scalar("SELECT user_type FROM wd_users WHERE user_id = $1")
        .bind(&alice.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(user_type, "POWERUSER");
}

// Login and tokens

async fn user_with_password(app: &TestApp, account: &TestAccount, username: &str) -> Value {
    let mut body = new_user(username, "Pat", "Word");
    body["Password"] = json!("correct horse");
    create(app, account, body).await
}

#[tokio::test]
async fn login_with_the_right_password_gives_a_token_that_works() {
    let app = spawn_app().await;
    let user = user_with_password(&app, &app.account, "pat").await;
    // Usernames match whatever their case.
    let (status, code, body) = login(
        &app,
        json!({"OrganizationId": app.account.directory_id, "Username": "PAT", "Password": "correct horse"}),
    )
    .await;
    assert_eq!((status, code), (200, None), "{body}");
    let token = body["AuthenticationToken"].as_str().unwrap().to_owned();
    let expires = body["ExpiresAt"].as_f64().unwrap();
    let in_12h = (chrono::Utc::now() + chrono::Duration::hours(12)).timestamp() as f64;
    assert!((expires - in_12h).abs() < 60.0, "{expires} vs {in_12h}");

    let (status, _, me) = app.wd(Auth::Token(&token), "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["User"]["Id"], user["Id"]);

    // Stored as its SHA-256 only, with the expiry announced.
    use sha2::Digest as _;
    let (digest, stored_expiry): (Vec<u8>, f64) = sqlx::query_as(
        "SELECT token_digest, extract(epoch FROM expires_at)::float8 FROM wd_tokens WHERE user_id = $1",
    )
    .bind(user["Id"].as_str().unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(digest, sha2::Sha256::digest(token.as_bytes()).to_vec());
    assert!((stored_expiry - expires).abs() < 0.002);
    let dump: String = sqlx::query_scalar("SELECT string_agg(wd_tokens::text, '') FROM wd_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!dump.contains(&token));
}

#[tokio::test]
async fn every_failed_login_gets_the_same_answer_in_about_the_same_time() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    user_with_password(&app, &app.account, "pat").await;
    let inactive = user_with_password(&app, &app.account, "gone").await;
    sqlx::query("UPDATE wd_users SET status = 'INACTIVE' WHERE user_id = $1")
        .bind(inactive["Id"].as_str().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    app.wd_user(&app.account, "nopass").await;
    user_with_password(&app, &other, "elsewhere").await;
    let dir = app.account.directory_id.as_str();
    let attempt = |org: &str, username: &str, password: &str| json!({"OrganizationId": org, "Username": username, "Password": password});
    let cases = [
        ("wrong password", attempt(dir, "pat", "wrong horse")),
        ("unknown user", attempt(dir, "nobody", "correct horse")),
        (
            "unknown organization",
            attempt("d-0000000000", "pat", "correct horse"),
        ),
        (
            "other tenant's user",
            attempt(dir, "elsewhere", "correct horse"),
        ),
        ("inactive user", attempt(dir, "gone", "correct horse")),
        (
            "user without a password",
            attempt(dir, "nopass", "correct horse"),
        ),
    ];
    let mut timings = Vec::new();
    for (what, body) in &cases {
        let mut runs = Vec::new();
        for _ in 0..3 {
            let started = std::time::Instant::now();
            let (status, code, out) = login(&app, body.clone()).await;
            runs.push(started.elapsed());
            assert_eq!(
                (status, code.as_deref()),
                (401, Some("InvalidPasswordException")),
                "{what}"
            );
            assert_eq!(
                out,
                json!({"__type": "InvalidPasswordException", "Message": BAD_LOGIN}),
                "{what}"
            );
        }
        runs.sort();
        timings.push((what, runs[1]));
    }
    // Every failure verifies one argon2id hash, a real or a dummy one: no case is fast.
    let wrong_password = timings[0].1;
    for (what, median) in &timings {
        assert!(
            *median * 3 >= wrong_password,
            "{what} took {median:?}, a wrong password {wrong_password:?}"
        );
    }
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tokens, 1, "only wd_user's own token exists");
}

#[tokio::test]
async fn login_validates_its_body_without_echoing_the_password() {
    let app = spawn_app().await;
    let body = refused(login(&app, json!({})).await, 400, "ValidationException");
    assert_eq!(
        body,
        validation(
            "3 validation errors detected: \
             Value null at 'organizationId' failed to satisfy constraint: Member must not be null; \
             Value null at 'username' failed to satisfy constraint: Member must not be null; \
             Value null at 'password' failed to satisfy constraint: Member must not be null"
        )
    );
    let (status, _, body) = login(
        &app,
        json!({"OrganizationId": app.account.directory_id, "Username": "pat", "Password": "x".repeat(40)}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Message"],
        "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 32"
    );
    let res = app
        .http
        .post(format!("{}/api/v1/grantd/login", app.address))
        .header("content-type", "application/json")
        .body("{\"Username\": ")
        .send()
        .await
        .unwrap();
    refused(parts(res).await, 400, "SerializationException");
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let me = Auth::Token(&alice.token);
    let (status, _, body) = app.wd(me, "DELETE", "/api/v1/grantd/token", None).await;
    assert_eq!((status, body), (204, Value::Null));
    let revoked: bool =
        sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM wd_tokens WHERE user_id = $1")
            .bind(&alice.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(revoked);
    let body = refused(
        app.wd(me, "GET", "/api/v1/me", None).await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(body["Message"], NOT_AUTHENTICATED);
    // Revoking again is revoking an invalid token.
    let (status, _, _) = app.wd(me, "DELETE", "/api/v1/grantd/token", None).await;
    assert_eq!(status, 404);
    // An administrator has no token to revoke.
    refused(
        app.wd(
            Auth::Admin(&app.account),
            "DELETE",
            "/api/v1/grantd/token",
            None,
        )
        .await,
        403,
        "UnauthorizedOperationException",
    );
}

#[tokio::test]
async fn a_token_revoked_by_another_process_stops_working_within_the_cache_bound() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let me = Auth::Token(&alice.token);
    let (status, _, _) = app.wd(me, "GET", "/api/v1/me", None).await;
    assert_eq!(status, 200);
    // Another grantd process revokes it: only the database knows.
    let revoked = sqlx::query("UPDATE wd_tokens SET revoked_at = now() WHERE user_id = $1")
        .bind(&alice.id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(revoked.rows_affected(), 1);
    tokio::time::sleep(grantd::workdocs::token_cache::TTL + std::time::Duration::from_millis(500))
        .await;
    let body = refused(
        app.wd(me, "GET", "/api/v1/me", None).await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(body["Message"], NOT_AUTHENTICATED);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let account = AccountId::from_str(&app.account.account_id).unwrap();
    let mut conn = app.pool.acquire().await.unwrap();
    let expired = grantd::workdocs::store::create_token(
        &mut conn,
        &account,
        &alice.id,
        chrono::Utc::now() - chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    let body = refused(
        app.wd(Auth::Token(&expired), "GET", "/api/v1/me", None)
            .await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(body["Message"], NOT_AUTHENTICATED);
    let (status, _, _) = app
        .wd(Auth::Token("gdt_never-issued"), "GET", "/api/v1/me", None)
        .await;
    assert_eq!(status, 404);
}

// Groups

async fn create_group(app: &TestApp, account: &TestAccount, name: &str) -> String {
    let (status, code, body) = app
        .wd(
            Auth::Admin(account),
            "POST",
            "/api/v1/groups",
            Some(json!({"Name": name})),
        )
        .await;
    assert_eq!((status, code), (201, None), "{body}");
    body["Group"]["Id"].as_str().unwrap().to_owned()
}

fn group_names(body: &Value) -> Vec<String> {
    body["Groups"]
        .as_array()
        .unwrap_or_else(|| panic!("no Groups in {body}"))
        .iter()
        .map(|g| g["Name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn describe_groups_requires_a_search_query() {
    let app = spawn_app().await;
    let body = refused(
        app.wd(Auth::Admin(&app.account), "GET", "/api/v1/groups", None)
            .await,
        400,
        "ValidationException",
    );
    assert_eq!(
        body,
        validation("1 validation error detected: Value null at 'searchQuery' failed to satisfy constraint: Member must not be null")
    );
    let (status, _, body) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            "/api/v1/groups?searchQuery=a%0Ab&organizationId=a%2Fb",
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Message"],
        "2 validation errors detected: \
         Value at 'searchQuery' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\uFFFF]+; \
         Value 'a/b' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: [&\\w+-.@]+"
    );
}

#[tokio::test]
async fn describe_groups_finds_names_by_prefix_in_the_callers_organization() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    for name in ["Engineering", "eng_ops", "Engage", "Sales", "engXops"] {
        create_group(&app, &app.account, name).await;
    }
    create_group(&app, &other, "Engineers elsewhere").await;
    let alice = app.wd_user(&app.account, "alice").await;
    let search = |auth, query: &str| {
        let path = format!("/api/v1/groups?searchQuery={query}");
        let app = &app;
        async move { app.wd(auth, "GET", &path, None).await }
    };
    for (query, expected) in [
        ("eng", vec!["eng_ops", "Engage", "Engineering", "engXops"]),
        ("ENGI", vec!["Engineering"]),
        ("eng_", vec!["eng_ops"]),
        ("%25", vec![]),
        ("s", vec!["Sales"]),
    ] {
        let (status, _, body) = search(Auth::Token(&alice.token), query).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(group_names(&body), expected, "{query}");
        for g in body["Groups"].as_array().unwrap() {
            assert!(g["Id"]
                .as_str()
                .unwrap()
                .ends_with(&format!("&{}", app.account.directory_id)));
        }
    }

    // Paging: no maximum limit, bad values refused.
    let admin = Auth::Admin(&app.account);
    let (_, _, first) = search(admin, "eng&limit=3").await;
    assert_eq!(
        group_names(&first),
        vec!["eng_ops", "Engage", "Engineering"]
    );
    let marker = first["Marker"].as_str().unwrap();
    let (_, _, second) = search(admin, &format!("eng&limit=3&marker={}", enc(marker))).await;
    assert_eq!(group_names(&second), vec!["engXops"]);
    assert!(second.get("Marker").is_none());
    let (status, _, _) = search(admin, "eng&limit=5000").await;
    assert_eq!(status, 200);
    for bad in ["eng&limit=0", "eng&limit=x", "eng&marker=%25%25"] {
        let (status, code, body) = search(admin, bad).await;
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("InvalidArgumentException")),
            "{bad}"
        );
        assert_eq!(body["Message"], BAD_PAGING);
    }

    let body = refused(
        search(admin, &format!("eng&organizationId={}", other.directory_id)).await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(body, not_visible(&app.account, "DescribeGroups"));
    let (status, _, body) = search(
        admin,
        &format!("eng&organizationId={}", app.account.directory_id),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(group_names(&body).len(), 4);
}

#[tokio::test]
async fn administrators_create_groups_and_manage_their_members() {
    let app = spawn_app().await;
    let admin = Auth::Admin(&app.account);
    let (status, _, body) = app
        .wd(
            admin,
            "POST",
            "/api/v1/groups",
            Some(json!({"Name": "Team"})),
        )
        .await;
    assert_eq!(status, 201);
    let group = body["Group"]["Id"].as_str().unwrap().to_owned();
    assert_eq!(body, json!({"Group": {"Id": group, "Name": "Team"}}));
    assert!(group.ends_with(&format!("&{}", app.account.directory_id)));

    let body = refused(
        app.wd(
            admin,
            "POST",
            "/api/v1/groups",
            Some(json!({"Name": "TEAM"})),
        )
        .await,
        409,
        "EntityAlreadyExistsException",
    );
    assert_eq!(
        body["Message"],
        "A group with this name already exists in the organization."
    );
    let (status, _, body) = app
        .wd(admin, "POST", "/api/v1/groups", Some(json!({})))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["Message"],
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    );

    let alice = app.wd_user(&app.account, "alice").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let member =
        |user: &WdUser| format!("/api/v1/groups/{}/members/{}", enc(&group), enc(&user.id));
    for user in [&bob, &alice, &alice] {
        let (status, _, body) = app.wd(admin, "PUT", &member(user), None).await;
        assert_eq!((status, body), (204, Value::Null));
    }
    let members_path = format!("/api/v1/groups/{}/members", enc(&group));
    let (status, _, body) = app.wd(admin, "GET", &members_path, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"Users": [
            {"Id": alice.id, "Username": "alice", "GivenName": "alice", "Surname": "Test", "EmailAddress": "alice@example.com"},
            {"Id": bob.id, "Username": "bob", "GivenName": "bob", "Surname": "Test", "EmailAddress": "bob@example.com"},
        ]})
    );
    for _ in 0..2 {
        let (status, _, _) = app.wd(admin, "DELETE", &member(&alice), None).await;
        assert_eq!(status, 204);
    }
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM wd_group_members WHERE group_id = $1")
            .bind(&group)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, vec![bob.id.clone()]);
}

#[tokio::test]
async fn group_membership_refuses_unknown_foreign_and_non_administrator_callers() {
    let app = spawn_app().await;
    let other = app.create_account(None).await;
    let admin = Auth::Admin(&app.account);
    let group = create_group(&app, &app.account, "Team").await;
    let foreign_group = create_group(&app, &other, "Theirs").await;
    let alice = app.wd_user(&app.account, "alice").await;
    let stranger = app.wd_user(&other, "stranger").await;
    let unknown_group = format!("S-1-1-11-9-9-9-9&{}", app.account.directory_id);
    let path = |g: &str, u: &str| format!("/api/v1/groups/{}/members/{}", enc(g), enc(u));

    for method in ["PUT", "DELETE"] {
        for (g, u, missing) in [
            (
                unknown_group.as_str(),
                alice.id.as_str(),
                unknown_group.as_str(),
            ),
            (
                foreign_group.as_str(),
                alice.id.as_str(),
                foreign_group.as_str(),
            ),
            (group.as_str(), stranger.id.as_str(), stranger.id.as_str()),
        ] {
            let (status, code, body) = app.wd(admin, method, &path(g, u), None).await;
            assert_eq!(
                (status, code.as_deref()),
                (404, Some("EntityNotExistsException")),
                "{method} {g} {u}"
            );
            assert_eq!(body, entity_not_exists(missing));
        }
    }
    let (status, _, body) = app
        .wd(
            admin,
            "GET",
            &format!("/api/v1/groups/{}/members", enc(&foreign_group)),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(body, entity_not_exists(&foreign_group));

    let me = Auth::Token(&alice.token);
    for (method, p, op, body) in [
        (
            "POST",
            "/api/v1/groups".to_owned(),
            "CreateGroup",
            Some(json!({"Name": "Mine"})),
        ),
        ("PUT", path(&group, &alice.id), "AddGroupMember", None),
        ("DELETE", path(&group, &alice.id), "RemoveGroupMember", None),
        (
            "GET",
            format!("/api/v1/groups/{}/members", enc(&group)),
            "DescribeGroupMembers",
            None,
        ),
    ] {
        let (status, code, out) = app.wd(me, method, &p, body).await;
        assert_eq!(
            (status, code.as_deref()),
            (403, Some("UnauthorizedOperationException")),
            "{method} {p}"
        );
        assert_eq!(out, unauthorized_operation(&alice.id, op));
    }
    let (groups, members): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM wd_groups), (SELECT count(*) FROM wd_group_members)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((groups, members), (2, 0));
}

// The `grantd admin` commands

#[tokio::test]
async fn admin_commands_create_users_tokens_and_groups_that_a_server_accepts() {
    let dir = data_dir();
    let admin = |args: &[&str]| {
        let mut full = vec!["admin"];
        full.extend_from_slice(args);
        run(dir.path(), &full)
    };
    let (code, out, err) = admin(&["create-account", "--account-id", "222222222222"]);
    assert_eq!(code, 0, "{err}");
    let account = TestAccount::from_json(&serde_json::from_str(&out).unwrap());
    // The other commands attach to the running server's cluster.
    let server = Grantd::serve(dir.path(), &[]).unwrap();
    let endpoint = server.endpoint();

    let (code, out, err) = admin(&[
        "create-user",
        "--account-id",
        "222222222222",
        "--username",
        "carol",
        "--given-name",
        "Carol",
        "--surname",
        "Cli",
        "--type",
        "ADMIN",
        "--password",
        "cli pass 1",
        "--email",
        "carol@example.com",
    ]);
    assert_eq!(code, 0, "{err}");
    let user: Value = serde_json::from_str(&out).unwrap();
    let user_id = user["Id"].as_str().unwrap().to_owned();
    assert!(user_id.ends_with(&format!("&{}", account.directory_id)));
    assert_eq!(user["Type"], "ADMIN");
    assert_eq!(user["Status"], "ACTIVE");
    assert_eq!(user["EmailAddress"], "carol@example.com");
    assert!(user["CreatedTimestamp"].is_number());
    assert!(user["RootFolderId"].as_str().unwrap().len() == 64);

    let (code, out, err) = admin(&["create-token", "--user-id", &user_id, "--ttl", "30m"]);
    assert_eq!(code, 0, "{err}");
    let issued: Value = serde_json::from_str(&out).unwrap();
    let token = issued["AuthenticationToken"].as_str().unwrap().to_owned();
    let in_30m = (chrono::Utc::now() + chrono::Duration::minutes(30)).timestamp() as f64;
    assert!((issued["ExpiresAt"].as_f64().unwrap() - in_30m).abs() < 60.0);

    let (code, out, err) = admin(&[
        "create-group",
        "--account-id",
        "222222222222",
        "--name",
        "Ops",
    ]);
    assert_eq!(code, 0, "{err}");
    let group: Value = serde_json::from_str(&out).unwrap();
    let group_id = group["Id"].as_str().unwrap().to_owned();
    assert_eq!(group["Name"], "Ops");
    let (code, out, err) = admin(&[
        "add-group-member",
        "--group-id",
        &group_id,
        "--user-id",
        &user_id,
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"GroupId": group_id, "UserId": user_id})
    );

    // Failures: a clear message and a non-zero exit, the password never repeated.
    for (args, expected_code, expected) in [
        (
            vec![
                "create-user",
                "--account-id",
                "222222222222",
                "--username",
                "CAROL",
                "--given-name",
                "C",
                "--surname",
                "C",
            ],
            1,
            "a user named CAROL already exists",
        ),
        (
            vec![
                "create-user",
                "--account-id",
                "999999999999",
                "--username",
                "dave",
                "--given-name",
                "D",
                "--surname",
                "D",
            ],
            1,
            "account 999999999999 does not exist",
        ),
        (
            vec![
                "create-user",
                "--account-id",
                "222222222222",
                "--username",
                "bad name",
                "--given-name",
                "D",
                "--surname",
                "D",
                "--password",
                "xy",
            ],
            1,
            "2 validation errors detected: Value at 'username'",
        ),
        (
            vec![
                "create-user",
                "--account-id",
                "222222222222",
                "--username",
                "dave",
                "--given-name",
                "D",
                "--surname",
                "D",
                "--type",
                "GUEST",
            ],
            2,
            "invalid value 'GUEST'",
        ),
        (
            vec!["create-token", "--user-id", "nobody"],
            1,
            "'nobody' is not a WorkDocs id",
        ),
        (
            vec!["create-token", "--user-id", "S-1-1&d-0000000000"],
            1,
            "organization d-0000000000 does not exist",
        ),
        (
            vec!["create-token", "--user-id", &user_id, "--ttl", "soon"],
            2,
            "'soon' is not a duration",
        ),
        (
            vec![
                "create-group",
                "--account-id",
                "222222222222",
                "--name",
                "OPS",
            ],
            1,
            "a group named OPS already exists",
        ),
    ] {
        let (code, out, err) = admin(&args);
        assert_eq!(code, expected_code, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("xy'"), "{err}");
    }

    // The server accepts the token and the password.
    let http = reqwest::Client::new();
    let me = http
        .get(format!("{endpoint}/api/v1/me"))
        .header("Authentication", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(me).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["User"]["Id"], user_id.as_str());
    let res = http
        .post(format!("{endpoint}/api/v1/grantd/login"))
        .json(&json!({"OrganizationId": account.directory_id, "Username": "carol", "Password": "cli pass 1"}))
        .send()
        .await
        .unwrap();
    let (status, _, body) = parts(res).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["AuthenticationToken"].is_string());

    // An inactive user gets no token from the CLI either.
    let res = crate::helpers::signed_request(
        &endpoint,
        &account,
        "DELETE",
        &format!("/api/v1/users/{}/activation", enc(&user_id)),
    )
    .service("workdocs")
    .send()
    .await;
    assert_eq!(res.status(), 204);
    let (code, _, err) = admin(&["create-token", "--user-id", &user_id]);
    assert_eq!(code, 1);
    assert!(err.contains("is INACTIVE"), "{err}");
}

#[tokio::test]
async fn password_and_token_guessing_is_throttled_per_source_without_locking_out_the_user() {
    let app = spawn_app().await;
    user_with_password(&app, &app.account, "pat").await;
    let dir = app.account.directory_id.clone();
    let guess = json!({"OrganizationId": dir, "Username": "pat", "Password": "wrong horse"});
    let mut answers = Vec::new();
    for _ in 0..12 {
        answers.push(login(&app, guess.clone()).await.0);
    }
    assert_eq!(answers[..10], [401; 10]);
    assert_eq!(answers[10..], [429, 429]);
    let res = app
        .http
        .post(format!("{}/api/v1/grantd/login", app.address))
        .json(&guess)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["__type"], "ThrottlingException");
    let tokens: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(tokens, 0);
    // The real user, from another address, is not locked out by the guesser.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let res = elsewhere
        .post(format!("{}/api/v1/grantd/login", app.address))
        .json(&json!({"OrganizationId": dir, "Username": "pat", "Password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Invalid tokens: the source is throttled after its burst; a valid token still works.
    let user = app.wd_user(&app.account, "valid").await;
    let mut statuses = Vec::new();
    for i in 0..32 {
        statuses.push(
            app.wd(
                Auth::Token(&format!("gdt_guess{i}")),
                "GET",
                "/api/v1/me",
                None,
            )
            .await
            .0,
        );
    }
    assert!(statuses[..30].iter().all(|s| *s == 404));
    assert_eq!(statuses[30..], [429, 429]);
    let (status, _, me) = app
        .wd(Auth::Token(&user.token), "GET", "/api/v1/me", None)
        .await;
    assert_eq!(
        (status, me["User"]["Id"].as_str()),
        (200, Some(user.id.as_str()))
    );
}
