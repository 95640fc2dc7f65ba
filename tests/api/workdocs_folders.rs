//! WorkDocs folders and documents (aws-wire.md §6.4, §6.6, §7.2): shapes, every failure,
//! stored rows and activities, in both authentication modes and across tenants.

use crate::helpers::{spawn_app, TestAccount, TestApp};
use crate::workdocs_helpers::{Auth, WdUser};
use serde_json::{json, Value};

/// The 409 a move into the folder's own subtree or into another user's tree answers with.
/// `ErrorCode` has no ConflictingOperation variant yet, so the folders slice answers with
/// ProhibitedStateException for now; change this when the variant lands.
const CONFLICTING: &str = "ConflictingOperationException";

fn not_visible(principal: &str, op: &str) -> String {
    format!("Principal [{principal}] is not allowed to execute [workdocs:{op}] on the resource.")
}

fn admin_principal(account: &TestAccount) -> String {
    format!("arn:aws:iam::{}:root", account.account_id)
}

fn is_hex64(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// The body of an answer that must be this refusal.
#[track_caller]
fn refused(answer: (u16, Option<String>, Value), status: u16, code: &str) -> Value {
    let (got, got_code, body) = answer;
    assert_eq!((got, got_code.as_deref()), (status, Some(code)), "{body}");
    body
}

async fn create_folder(app: &TestApp, auth: Auth<'_>, parent: &str, name: &str) -> Value {
    let (status, code, body) = app
        .wd(
            auth,
            "POST",
            "/api/v1/folders",
            Some(json!({"Name": name, "ParentFolderId": parent})),
        )
        .await;
    assert_eq!((status, code), (201, None), "{body}");
    body["Metadata"].clone()
}

async fn folder_id(app: &TestApp, user: &WdUser, parent: &str, name: &str) -> String {
    let m = create_folder(app, Auth::Token(&user.token), parent, name).await;
    m["Id"].as_str().unwrap().to_owned()
}

async fn initiate(app: &TestApp, auth: Auth<'_>, body: Value) -> (u16, Option<String>, Value) {
    app.wd(auth, "POST", "/api/v1/documents", Some(body)).await
}

async fn document_id(app: &TestApp, user: &WdUser, parent: &str, name: &str) -> String {
    let (status, _, body) = initiate(
        app,
        Auth::Token(&user.token),
        json!({"Name": name, "ParentFolderId": parent, "ContentType": "text/plain"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["Metadata"]["Id"].as_str().unwrap().to_owned()
}

/// A DIRECT grant, inserted as the sharing slice would store it.
async fn grant(app: &TestApp, resource: &str, grantee: &WdUser, role: &str) {
    sqlx::query(
        "INSERT INTO wd_grants (account_id, resource_id, principal_id, principal_type, role, granted_by)
         VALUES ($1, $2, $3, 'USER', $4, 'test')",
    )
    .bind(&grantee.account.account_id)
    .bind(resource)
    .bind(&grantee.id)
    .bind(role)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[derive(Debug, sqlx::FromRow)]
struct Stored {
    kind: String,
    parent_id: Option<String>,
    owner_id: String,
    creator_id: String,
    name: String,
    resource_state: String,
    version_id: Option<String>,
    version_status: Option<String>,
    size: i64,
}

async fn stored(app: &TestApp, id: &str) -> Option<Stored> {
    sqlx::query_as(
        "SELECT kind, parent_id, owner_id, creator_id, name, resource_state, version_id,
                version_status, size
         FROM wd_resources WHERE resource_id = $1",
    )
    .bind(id)
    .fetch_optional(&app.pool)
    .await
    .unwrap()
}

/// `(type, initiator, original_parent_id, original_name)` of a resource's activities, oldest first.
async fn activities(
    app: &TestApp,
    id: &str,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT activity_type, initiator_id, original_parent_id, original_name
         FROM wd_activities WHERE resource_id = $1 ORDER BY activity_id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn activity_types(app: &TestApp, id: &str) -> Vec<String> {
    activities(app, id).await.into_iter().map(|a| a.0).collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["Id"].as_str().unwrap().to_owned())
        .collect()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m.get("Name")
                .or_else(|| m["LatestVersionMetadata"].get("Name"))
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn create_folder_returns_201_with_folder_metadata_and_records_the_creation() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let m = create_folder(&app, Auth::Token(&alice.token), &alice.root, "résumé 📁").await;
    assert!(is_hex64(&m["Id"]), "{m}");
    assert_eq!(m["Name"], "résumé 📁");
    assert_eq!(m["ParentFolderId"], alice.root.as_str());
    assert_eq!(m["CreatorId"], alice.id.as_str());
    assert_eq!(m["ResourceState"], "ACTIVE");
    assert_eq!(m["Signature"], "");
    assert_eq!(m["Size"], 0);
    assert_eq!(m["LatestVersionSize"], 0);
    assert_eq!(m["Labels"], json!([]));
    assert!(
        m["CreatedTimestamp"].is_f64() && m["ModifiedTimestamp"].is_f64(),
        "{m}"
    );

    let id = m["Id"].as_str().unwrap();
    let row = stored(&app, id).await.unwrap();
    assert_eq!(
        (
            row.kind.as_str(),
            row.parent_id.as_deref(),
            row.owner_id.as_str(),
            row.creator_id.as_str()
        ),
        (
            "FOLDER",
            Some(alice.root.as_str()),
            alice.id.as_str(),
            alice.id.as_str()
        )
    );
    assert_eq!(
        activities(&app, id).await,
        vec![("FOLDER_CREATED".into(), alice.id.clone(), None, None)]
    );
}

#[tokio::test]
async fn an_administrator_creates_in_a_users_tree_as_the_account_arn() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let m = create_folder(&app, Auth::Admin(&app.account), &alice.root, "by admin").await;
    let arn = admin_principal(&app.account);
    assert_eq!(m["CreatorId"], arn.as_str());
    let row = stored(&app, m["Id"].as_str().unwrap()).await.unwrap();
    // The tree's owner owns it; the administrator only created it.
    assert_eq!(
        (row.owner_id, row.creator_id),
        (alice.id.clone(), arn.clone())
    );
    assert_eq!(activities(&app, m["Id"].as_str().unwrap()).await[0].1, arn);
    // And the owner sees it as their own.
    let (status, _, body) = app
        .wd(
            Auth::Token(&alice.token),
            "GET",
            &format!("/api/v1/folders/{}", m["Id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn create_folder_refuses_invalid_input_and_stores_nothing() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM wd_resources")
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = count().await;
    let cases = [
        (
            json!({"ParentFolderId": alice.root}),
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null".to_owned(),
        ),
        (
            json!({}),
            "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value null at 'parentFolderId' failed to satisfy constraint: Member must not be null".to_owned(),
        ),
        (
            json!({"Name": "a\u{202E}b", "ParentFolderId": alice.root}),
            "1 validation error detected: Value 'a\u{202E}b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\u202D\\u202F-\\uFFFF]+".to_owned(),
        ),
        (
            json!({"Name": "tab\there", "ParentFolderId": alice.root}),
            "1 validation error detected: Value 'tab\there' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0020-\\u202D\\u202F-\\uFFFF]+".to_owned(),
        ),
        (
            json!({"Name": "x".repeat(256), "ParentFolderId": alice.root}),
            format!("1 validation error detected: Value '{}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 255", "x".repeat(256)),
        ),
        (
            json!({"Name": "ok", "ParentFolderId": "a&b"}),
            "1 validation error detected: Value 'a&b' at 'parentFolderId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+-.@]+".to_owned(),
        ),
    ];
    for (body, message) in cases {
        let (status, code, answer) = app.wd(t, "POST", "/api/v1/folders", Some(body)).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(code.as_deref(), Some("ValidationException"));
        assert_eq!(answer["Message"], message.as_str());
    }
    // 255 UTF-16 units is the limit: 127 astral characters (254 units) plus one fits.
    let long = format!("{}a", "📁".repeat(127));
    create_folder(&app, t, &alice.root, &long).await;
    refused(
        app.wd(
            t,
            "POST",
            "/api/v1/folders",
            Some(json!({"Name": format!("{long}b"), "ParentFolderId": alice.root})),
        )
        .await,
        400,
        "ValidationException",
    );

    let res = app
        .http
        .post(format!("{}/api/v1/folders", app.address))
        .header("Authentication", format!("Bearer {}", alice.token))
        .body("{\"Name\": ")
        .send()
        .await
        .unwrap();
    refused(
        crate::helpers::parts(res).await,
        400,
        "SerializationException",
    );
    refused(
        app.wd(
            t,
            "POST",
            "/api/v1/folders",
            Some(json!({"Name": 5, "ParentFolderId": alice.root})),
        )
        .await,
        400,
        "SerializationException",
    );
    assert_eq!(count().await, before + 1);
}

#[tokio::test]
async fn a_duplicate_folder_name_under_one_parent_is_409_and_elsewhere_is_fine() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let a = folder_id(&app, &alice, &alice.root, "Reports").await;
    let body = refused(
        app.wd(
            t,
            "POST",
            "/api/v1/folders",
            Some(json!({"Name": "Reports", "ParentFolderId": alice.root})),
        )
        .await,
        409,
        "EntityAlreadyExistsException",
    );
    assert_eq!(
        body["Message"],
        "A folder named 'Reports' already exists in the parent folder."
    );
    // The same name one level down, and a document of that name, are fine.
    folder_id(&app, &alice, &a, "Reports").await;
    document_id(&app, &alice, &alice.root, "Reports").await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_resources WHERE name = 'Reports'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
}

#[tokio::test]
async fn nothing_is_created_in_a_recycle_bin_a_recycled_folder_or_a_document() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let gone = folder_id(&app, &alice, &alice.root, "gone").await;
    let inside = folder_id(&app, &alice, &gone, "inside").await;
    let doc = document_id(&app, &alice, &alice.root, "doc").await;
    let (status, _, _) = app
        .wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{gone}"),
            Some(json!({"ResourceState": "RECYCLED"})),
        )
        .await;
    assert_eq!(status, 200);
    for parent in [&alice.recycle_bin, &gone, &inside] {
        refused(
            app.wd(
                t,
                "POST",
                "/api/v1/folders",
                Some(json!({"Name": "new", "ParentFolderId": parent})),
            )
            .await,
            409,
            "ProhibitedStateException",
        );
        refused(
            initiate(&app, t, json!({"Name": "new", "ParentFolderId": parent})).await,
            409,
            "ProhibitedStateException",
        );
    }
    let body = refused(
        app.wd(
            t,
            "POST",
            "/api/v1/folders",
            Some(json!({"Name": "new", "ParentFolderId": doc})),
        )
        .await,
        404,
        "EntityNotExistsException",
    );
    assert_eq!(body["EntityIds"], json!([doc]));
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_resources WHERE name = 'new'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// Every operation answers an unknown id and another tenant's id alike, word for word, in
/// both authentication modes.
#[tokio::test]
async fn unknown_and_foreign_ids_are_404_with_the_same_message() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let folder = folder_id(&app, &alice, &alice.root, "a").await;
    let doc = document_id(&app, &alice, &folder, "d").await;
    let other = app.create_account(None).await;
    let mallory = app.wd_user(&other, "mallory").await;
    let unknown = "0".repeat(64);

    let calls = |f: &str, d: &str| -> Vec<(&'static str, &'static str, String, Option<Value>)> {
        vec![
            ("GetFolder", "GET", format!("/api/v1/folders/{f}"), None),
            (
                "GetFolderPath",
                "GET",
                format!("/api/v1/folders/{f}/path"),
                None,
            ),
            (
                "DescribeFolderContents",
                "GET",
                format!("/api/v1/folders/{f}/contents"),
                None,
            ),
            (
                "UpdateFolder",
                "PATCH",
                format!("/api/v1/folders/{f}"),
                Some(json!({"Name": "x"})),
            ),
            (
                "DeleteFolder",
                "DELETE",
                format!("/api/v1/folders/{f}"),
                None,
            ),
            (
                "CreateFolder",
                "POST",
                "/api/v1/folders".into(),
                Some(json!({"Name": "x", "ParentFolderId": f})),
            ),
            (
                "InitiateDocumentVersionUpload",
                "POST",
                "/api/v1/documents".into(),
                Some(json!({"Name": "x", "ParentFolderId": f})),
            ),
            (
                "InitiateDocumentVersionUpload",
                "POST",
                "/api/v1/documents".into(),
                Some(json!({"Id": d})),
            ),
            ("GetDocument", "GET", format!("/api/v1/documents/{d}"), None),
            (
                "GetDocumentPath",
                "GET",
                format!("/api/v1/documents/{d}/path"),
                None,
            ),
            (
                "UpdateDocument",
                "PATCH",
                format!("/api/v1/documents/{d}"),
                Some(json!({"Name": "x"})),
            ),
            (
                "DeleteDocument",
                "DELETE",
                format!("/api/v1/documents/{d}"),
                None,
            ),
        ]
    };
    for (auth, principal) in [
        (Auth::Token(&mallory.token), mallory.id.clone()),
        (Auth::Admin(&other), admin_principal(&other)),
    ] {
        let foreign = calls(&folder, &doc);
        let missing = calls(&unknown, &unknown);
        for ((op, method, path, body), (_, _, unknown_path, unknown_body)) in
            foreign.into_iter().zip(missing)
        {
            let (s1, c1, b1) = app.wd(auth, method, &path, body).await;
            let (s2, c2, b2) = app.wd(auth, method, &unknown_path, unknown_body).await;
            assert_eq!(
                (s1, c1.as_deref()),
                (404, Some("UnauthorizedResourceAccessException")),
                "{op}: {b1}"
            );
            assert_eq!(b1, b2, "{op}");
            assert_eq!((s1, c1), (s2, c2));
            assert_eq!(b1["Message"], not_visible(&principal, op).as_str());
        }
    }
    // Nothing of alice's changed.
    assert_eq!(stored(&app, &folder).await.unwrap().name, "a");
    assert_eq!(stored(&app, &doc).await.unwrap().name, "d");
}

#[tokio::test]
async fn roles_decide_what_a_user_may_do_to_anothers_folder() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let viewer = app.wd_user(&app.account, "viewer").await;
    let contributor = app.wd_user(&app.account, "contributor").await;
    let coowner = app.wd_user(&app.account, "coowner").await;
    let stranger = app.wd_user(&app.account, "stranger").await;
    let shared = folder_id(&app, &alice, &alice.root, "shared").await;
    let sub = folder_id(&app, &alice, &shared, "sub").await;
    let doc = document_id(&app, &alice, &sub, "doc").await;
    grant(&app, &shared, &viewer, "VIEWER").await;
    grant(&app, &shared, &contributor, "CONTRIBUTOR").await;
    grant(&app, &shared, &coowner, "COOWNER").await;

    // Reading: every role, on the folder and (inherited) below it; not the stranger.
    for user in [&viewer, &contributor, &coowner] {
        let t = Auth::Token(&user.token);
        for path in [
            format!("/api/v1/folders/{sub}"),
            format!("/api/v1/folders/{sub}/contents"),
            format!("/api/v1/folders/{sub}/path"),
            format!("/api/v1/documents/{doc}"),
            format!("/api/v1/documents/{doc}/path"),
        ] {
            let (status, _, body) = app.wd(t, "GET", &path, None).await;
            assert_eq!(status, 200, "{} {path}: {body}", user.username);
        }
    }
    let body = refused(
        app.wd(
            Auth::Token(&stranger.token),
            "GET",
            &format!("/api/v1/folders/{sub}"),
            None,
        )
        .await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(
        body["Message"],
        not_visible(&stranger.id, "GetFolder").as_str()
    );

    // Adding: CONTRIBUTOR or more on the parent.
    let forbidden = |who: &WdUser, op: &str| {
        format!(
            "Principal [{}] does not have the role required to execute [workdocs:{op}] on the resource.",
            who.id
        )
    };
    let v = Auth::Token(&viewer.token);
    let body = refused(
        app.wd(
            v,
            "POST",
            "/api/v1/folders",
            Some(json!({"Name": "v", "ParentFolderId": sub})),
        )
        .await,
        403,
        "UnauthorizedOperationException",
    );
    assert_eq!(body["Message"], forbidden(&viewer, "CreateFolder").as_str());
    refused(
        initiate(&app, v, json!({"Name": "v", "ParentFolderId": sub})).await,
        403,
        "UnauthorizedOperationException",
    );
    refused(
        initiate(&app, v, json!({"Id": doc})).await,
        403,
        "UnauthorizedOperationException",
    );

    let c = Auth::Token(&contributor.token);
    let made = create_folder(&app, c, &sub, "by contributor").await;
    assert_eq!(made["CreatorId"], contributor.id.as_str());
    let row = stored(&app, made["Id"].as_str().unwrap()).await.unwrap();
    assert_eq!(
        (row.owner_id, row.creator_id),
        (alice.id.clone(), contributor.id.clone())
    );
    let (status, _, body) = initiate(&app, c, json!({"Id": doc, "Name": "doc v2"})).await;
    assert_eq!(status, 201, "{body}");

    // Changing and deleting: COOWNER or more.
    for (who, auth) in [(&viewer, v), (&contributor, c)] {
        for (op, method, path, body) in [
            (
                "UpdateFolder",
                "PATCH",
                format!("/api/v1/folders/{sub}"),
                Some(json!({"Name": "x"})),
            ),
            (
                "DeleteFolder",
                "DELETE",
                format!("/api/v1/folders/{sub}"),
                None,
            ),
            (
                "UpdateDocument",
                "PATCH",
                format!("/api/v1/documents/{doc}"),
                Some(json!({"ResourceState": "RECYCLED"})),
            ),
            (
                "DeleteDocument",
                "DELETE",
                format!("/api/v1/documents/{doc}"),
                None,
            ),
        ] {
            let (status, code, answer) = app.wd(auth, method, &path, body).await;
            assert_eq!(
                (status, code.as_deref()),
                (403, Some("UnauthorizedOperationException")),
                "{op}"
            );
            assert_eq!(answer["Message"], forbidden(who, op).as_str());
        }
    }
    assert_eq!(stored(&app, &sub).await.unwrap().name, "sub");
    let o = Auth::Token(&coowner.token);
    let (status, _, _) = app
        .wd(
            o,
            "PATCH",
            &format!("/api/v1/folders/{sub}"),
            Some(json!({"Name": "renamed"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = app
        .wd(o, "DELETE", &format!("/api/v1/documents/{doc}"), None)
        .await;
    assert_eq!(status, 204);

    // A move needs CONTRIBUTOR on the new parent too: the co-owner cannot move the shared
    // sub-folder into alice's root, where they have no role.
    refused(
        app.wd(
            o,
            "PATCH",
            &format!("/api/v1/folders/{sub}"),
            Some(json!({"ParentFolderId": alice.root})),
        )
        .await,
        404,
        "UnauthorizedResourceAccessException",
    );
    assert_eq!(
        stored(&app, &sub).await.unwrap().parent_id.as_deref(),
        Some(shared.as_str())
    );
}

#[tokio::test]
async fn get_folder_returns_metadata_in_both_modes_and_refuses_bad_input() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let id = folder_id(&app, &alice, &alice.root, "a").await;
    let doc = document_id(&app, &alice, &alice.root, "d").await;
    for auth in [Auth::Token(&alice.token), Auth::Admin(&app.account)] {
        let (status, _, body) = app
            .wd(
                auth,
                "GET",
                &format!("/api/v1/folders/{id}?includeCustomMetadata=true"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let m = &body["Metadata"];
        assert_eq!(
            (m["Id"].as_str(), m["Name"].as_str()),
            (Some(id.as_str()), Some("a"))
        );
        assert!(m["CreatedTimestamp"].is_number() && m["ModifiedTimestamp"].is_number());
        assert!(body.get("CustomMetadata").is_none());
    }
    let t = Auth::Token(&alice.token);
    let (status, _, body) = app
        .wd(t, "GET", &format!("/api/v1/folders/{}", alice.root), None)
        .await;
    assert_eq!(status, 200);
    assert!(body["Metadata"].get("ParentFolderId").is_none(), "{body}");

    refused(
        app.wd(
            t,
            "GET",
            &format!("/api/v1/folders/{id}?includeCustomMetadata=maybe"),
            None,
        )
        .await,
        400,
        "SerializationException",
    );
    let body = refused(
        app.wd(t, "GET", "/api/v1/folders/not%20an%20id", None)
            .await,
        400,
        "ValidationException",
    );
    assert_eq!(
        body["Message"],
        "1 validation error detected: Value 'not an id' at 'folderId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+-.@]+"
    );
    // A document is no folder, and a folder no document.
    let body = refused(
        app.wd(t, "GET", &format!("/api/v1/folders/{doc}"), None)
            .await,
        404,
        "EntityNotExistsException",
    );
    assert_eq!(body["EntityIds"], json!([doc]));
    refused(
        app.wd(t, "GET", &format!("/api/v1/documents/{id}"), None)
            .await,
        404,
        "EntityNotExistsException",
    );
    // No credentials at all.
    refused(
        app.wd(Auth::None, "GET", &format!("/api/v1/folders/{id}"), None)
            .await,
        403,
        "MissingAuthenticationTokenException",
    );
}

#[tokio::test]
async fn paths_run_from_the_root_down_and_hide_what_a_grantee_cannot_see() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let a = folder_id(&app, &alice, &alice.root, "a").await;
    let b = folder_id(&app, &alice, &a, "b").await;
    let c = folder_id(&app, &alice, &b, "c").await;
    let doc = document_id(&app, &alice, &c, "report.txt").await;
    let t = Auth::Token(&alice.token);
    let components = |body: &Value| body["Path"]["Components"].clone();

    let (status, _, body) = app
        .wd(t, "GET", &format!("/api/v1/folders/{c}/path"), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        components(&body),
        json!([{"Id": alice.root}, {"Id": a}, {"Id": b}, {"Id": c}])
    );
    let (_, _, body) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/folders/{c}/path?fields=NAME&limit=2"),
            None,
        )
        .await;
    assert_eq!(
        components(&body),
        json!([{"Id": b, "Name": "b"}, {"Id": c, "Name": "c"}])
    );
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/documents/{doc}/path?fields=NAME"),
            None,
        )
        .await;
    assert_eq!(
        names(&components(&body)),
        vec!["ROOT", "a", "b", "c", "report.txt"]
    );
    assert_eq!(ids(&components(&body)).last().unwrap(), &doc);

    // Bob sees b (shared with him) and below, never alice's folders above it.
    grant(&app, &b, &bob, "VIEWER").await;
    let (_, _, body) = app
        .wd(
            Auth::Token(&bob.token),
            "GET",
            &format!("/api/v1/documents/{doc}/path"),
            None,
        )
        .await;
    assert_eq!(
        ids(&components(&body)),
        vec![b.clone(), c.clone(), doc.clone()]
    );

    for query in ["limit=0", "limit=1000", "limit=x", "marker=%25%25"] {
        let (status, code, _) = app
            .wd(t, "GET", &format!("/api/v1/folders/{c}/path?{query}"), None)
            .await;
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("InvalidArgumentException")),
            "{query}"
        );
    }
    refused(
        app.wd(
            t,
            "GET",
            &format!("/api/v1/folders/{c}/path?fields=NA-ME"),
            None,
        )
        .await,
        400,
        "ValidationException",
    );
}

#[tokio::test]
async fn folder_contents_filter_sort_and_exclude_recycled_and_initialized_items() {
    let app = &spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let root = &alice.root;
    let b = folder_id(app, &alice, root, "b").await;
    let a = folder_id(app, &alice, root, "a").await;
    let binned = folder_id(app, &alice, root, "binned").await;
    let doc = document_id(app, &alice, root, "z.txt").await;
    let active_doc = document_id(app, &alice, root, "y.txt").await;
    folder_id(app, &alice, &a, "deeper").await;
    // grantd never completes an upload; mark one version ACTIVE as a completed one would be.
    sqlx::query("UPDATE wd_resources SET version_status = 'ACTIVE' WHERE resource_id = $1")
        .bind(&active_doc)
        .execute(&app.pool)
        .await
        .unwrap();
    let (status, _, _) = app
        .wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{binned}"),
            Some(json!({"ResourceState": "RECYCLED"})),
        )
        .await;
    assert_eq!(status, 200);
    let list = |query: String| async move {
        let (status, code, body) = app
            .wd(
                t,
                "GET",
                &format!("/api/v1/folders/{root}/contents{query}"),
                None,
            )
            .await;
        assert_eq!((status, code), (200, None), "{body}");
        body
    };

    let body = list(String::new()).await;
    assert_eq!(ids(&body["Folders"]), vec![a.clone(), b.clone()]);
    assert_eq!(ids(&body["Documents"]), vec![active_doc.clone()]);
    assert!(body.get("Marker").is_none());
    let d = &body["Documents"][0];
    assert!(
        d["CreatedTimestamp"].is_number()
            && d["LatestVersionMetadata"]["CreatedTimestamp"].is_number()
    );

    let body = list("?include=INITIALIZED".into()).await;
    assert_eq!(
        ids(&body["Documents"]),
        vec![active_doc.clone(), doc.clone()]
    );
    let body = list("?include=INITIALIZED&type=DOCUMENT&sort=NAME&order=DESCENDING".into()).await;
    assert_eq!(body["Folders"], json!([]));
    assert_eq!(names(&body["Documents"]), vec!["z.txt", "y.txt"]);
    let body = list("?type=FOLDER&order=DESCENDING".into()).await;
    assert_eq!(names(&body["Folders"]), vec!["b", "a"]);
    assert_eq!(body["Documents"], json!([]));
    // DATE is the last modification: renaming b makes it the newest.
    let (status, _, _) = app
        .wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{b}"),
            Some(json!({"Name": "b2"})),
        )
        .await;
    assert_eq!(status, 200);
    let body = list("?type=FOLDER&sort=DATE&order=DESCENDING".into()).await;
    assert_eq!(ids(&body["Folders"]), vec![b.clone(), a.clone()]);
    let body = list("?type=FOLDER&sort=DATE".into()).await;
    assert_eq!(ids(&body["Folders"]), vec![a.clone(), b.clone()]);

    // The recycle bin lists what its owner recycled.
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/folders/{}/contents", alice.recycle_bin),
            None,
        )
        .await;
    assert_eq!(ids(&body["Folders"]), vec![binned.clone()]);
    assert_eq!(body["Folders"][0]["ResourceState"], "RECYCLED");

    // Administrators list too.
    let (status, _, body) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/folders/{root}/contents?type=FOLDER"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body["Folders"]), vec![a.clone(), b.clone()]);

    for (query, code) in [
        ("sort=SIZE", "ValidationException"),
        ("order=UP", "ValidationException"),
        ("type=LINK", "ValidationException"),
        ("include=INITIALIZED%20", "ValidationException"),
        ("limit=0", "InvalidArgumentException"),
        ("limit=1000", "InvalidArgumentException"),
        ("limit=ten", "InvalidArgumentException"),
        ("marker=nonsense", "InvalidArgumentException"),
    ] {
        let (status, got, body) = app
            .wd(
                t,
                "GET",
                &format!("/api/v1/folders/{root}/contents?{query}"),
                None,
            )
            .await;
        assert_eq!(
            (status, got.as_deref()),
            (400, Some(code)),
            "{query}: {body}"
        );
    }
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/folders/{root}/contents?sort=SIZE&order=UP"),
            None,
        )
        .await;
    assert_eq!(
        body["Message"],
        "2 validation errors detected: Value 'SIZE' at 'sort' failed to satisfy constraint: Member must satisfy enum value set: [DATE, NAME]; Value 'UP' at 'order' failed to satisfy constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]"
    );
}

#[tokio::test]
async fn folder_contents_page_through_folders_then_documents_without_overlap() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let parent = folder_id(&app, &alice, &alice.root, "parent").await;
    let mut expected_folders = Vec::new();
    for name in ["f3", "f1", "f4", "f2", "f5"] {
        folder_id(&app, &alice, &parent, name).await;
        expected_folders.push(name.to_owned());
    }
    expected_folders.sort();
    for name in ["d2", "d1", "d2", "d3"] {
        document_id(&app, &alice, &parent, name).await;
    }
    for (sort, order) in [
        ("NAME", "ASCENDING"),
        ("NAME", "DESCENDING"),
        ("DATE", "ASCENDING"),
        ("DATE", "DESCENDING"),
    ] {
        let mut folders = Vec::new();
        let mut documents = Vec::new();
        let mut marker: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!(
                "/api/v1/folders/{parent}/contents?limit=2&include=INITIALIZED&sort={sort}&order={order}"
            );
            if let Some(m) = &marker {
                path.push_str(&format!("&marker={m}"));
            }
            let (status, _, body) = app.wd(t, "GET", &path, None).await;
            assert_eq!(status, 200, "{body}");
            let page = body["Folders"].as_array().unwrap().len()
                + body["Documents"].as_array().unwrap().len();
            assert!(page <= 2);
            folders.extend(ids(&body["Folders"]));
            documents.extend(ids(&body["Documents"]));
            pages += 1;
            match body.get("Marker").and_then(Value::as_str) {
                Some(m) => marker = Some(m.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 5, "{sort} {order}");
        assert_eq!(folders.len(), 5);
        assert_eq!(documents.len(), 4);
        let mut unique = folders.clone();
        unique.extend(documents.clone());
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 9, "no item twice");
        if sort == "NAME" {
            let (_, _, body) = app
                .wd(
                    t,
                    "GET",
                    &format!(
                        "/api/v1/folders/{parent}/contents?type=FOLDER&sort=NAME&order={order}"
                    ),
                    None,
                )
                .await;
            assert_eq!(ids(&body["Folders"]), folders);
            let mut sorted = expected_folders.clone();
            if order == "DESCENDING" {
                sorted.reverse();
            }
            assert_eq!(names(&body["Folders"]), sorted);
        }
    }
    // A marker made for one sort is refused by the other.
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/folders/{parent}/contents?limit=1"),
            None,
        )
        .await;
    let m = body["Marker"].as_str().unwrap();
    refused(
        app.wd(
            t,
            "GET",
            &format!("/api/v1/folders/{parent}/contents?sort=DATE&marker={m}"),
            None,
        )
        .await,
        400,
        "InvalidArgumentException",
    );
}

#[tokio::test]
async fn update_folder_renames_and_moves_with_activities_and_an_empty_body() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let a = folder_id(&app, &alice, &alice.root, "a").await;
    let b = folder_id(&app, &alice, &alice.root, "b").await;
    let res = app
        .http
        .patch(format!("{}/api/v1/folders/{a}", app.address))
        .header("Authentication", format!("Bearer {}", alice.token))
        .json(&json!({"Name": "a2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().is_empty());
    assert_eq!(stored(&app, &a).await.unwrap().name, "a2");

    let (status, _, _) = app
        .wd(
            Auth::Admin(&app.account),
            "PATCH",
            &format!("/api/v1/folders/{a}"),
            Some(json!({"ParentFolderId": b})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        stored(&app, &a).await.unwrap().parent_id.as_deref(),
        Some(b.as_str())
    );
    assert_eq!(
        activities(&app, &a).await,
        vec![
            ("FOLDER_CREATED".into(), alice.id.clone(), None, None),
            (
                "FOLDER_RENAMED".into(),
                alice.id.clone(),
                None,
                Some("a".into())
            ),
            (
                "FOLDER_MOVED".into(),
                admin_principal(&app.account),
                Some(alice.root.clone()),
                None
            ),
        ]
    );
    // Nothing to change changes nothing, and records nothing.
    for body in [
        json!({}),
        json!({"Name": "a2", "ParentFolderId": b, "ResourceState": "ACTIVE"}),
    ] {
        let (status, _, _) = app
            .wd(t, "PATCH", &format!("/api/v1/folders/{a}"), Some(body))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(activities(&app, &a).await.len(), 3);

    // Renaming and moving at once onto a taken name changes nothing.
    folder_id(&app, &alice, &alice.root, "taken").await;
    refused(
        app.wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{a}"),
            Some(json!({"Name": "taken", "ParentFolderId": alice.root})),
        )
        .await,
        409,
        "EntityAlreadyExistsException",
    );
    let row = stored(&app, &a).await.unwrap();
    assert_eq!(
        (row.name.as_str(), row.parent_id.as_deref()),
        ("a2", Some(b.as_str()))
    );
    assert_eq!(activities(&app, &a).await.len(), 3);

    let body = refused(
        app.wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{a}"),
            Some(json!({"Name": "", "ResourceState": "RESTORING", "ParentFolderId": "x/y"})),
        )
        .await,
        400,
        "ValidationException",
    );
    let message = body["Message"].as_str().unwrap();
    assert!(
        message.starts_with("4 validation errors detected: "),
        "{message}"
    );
    assert!(message.contains("Value 'RESTORING' at 'resourceState' failed to satisfy constraint: Member must satisfy enum value set: [ACTIVE, RECYCLED]"));
}

#[tokio::test]
async fn a_move_into_its_own_subtree_or_another_tree_is_refused() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let t = Auth::Token(&alice.token);
    let a = folder_id(&app, &alice, &alice.root, "a").await;
    let b = folder_id(&app, &alice, &a, "b").await;
    let c = folder_id(&app, &alice, &b, "c").await;
    let doc = document_id(&app, &alice, &alice.root, "doc").await;
    for target in [&a, &b, &c] {
        let body = refused(
            app.wd(
                t,
                "PATCH",
                &format!("/api/v1/folders/{a}"),
                Some(json!({"ParentFolderId": target})),
            )
            .await,
            409,
            CONFLICTING,
        );
        assert_eq!(
            body["Message"],
            "A folder cannot be moved into itself or one of its sub-folders."
        );
    }
    // Into another user's tree, even for the administrator who may see both.
    for auth in [t, Auth::Admin(&app.account)] {
        grant(&app, &bob.root, &alice, "CONTRIBUTOR").await;
        let body = refused(
            app.wd(
                auth,
                "PATCH",
                &format!("/api/v1/folders/{a}"),
                Some(json!({"ParentFolderId": bob.root})),
            )
            .await,
            409,
            CONFLICTING,
        );
        assert_eq!(
            body["Message"],
            "A folder or document cannot be moved into another user's folders."
        );
        sqlx::query("DELETE FROM wd_grants")
            .execute(&app.pool)
            .await
            .unwrap();
    }
    // Into the recycle bin, or into a document.
    refused(
        app.wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{b}"),
            Some(json!({"ParentFolderId": alice.recycle_bin})),
        )
        .await,
        409,
        "ProhibitedStateException",
    );
    refused(
        app.wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{b}"),
            Some(json!({"ParentFolderId": doc})),
        )
        .await,
        404,
        "EntityNotExistsException",
    );
    // The tree is as it was, and no move was recorded.
    assert_eq!(
        stored(&app, &a).await.unwrap().parent_id.as_deref(),
        Some(alice.root.as_str())
    );
    assert_eq!(
        stored(&app, &b).await.unwrap().parent_id.as_deref(),
        Some(a.as_str())
    );
    assert!(!activity_types(&app, &a)
        .await
        .contains(&"FOLDER_MOVED".to_owned()));
    // A move down the tree the other way is fine.
    let (status, _, _) = app
        .wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{c}"),
            Some(json!({"ParentFolderId": alice.root})),
        )
        .await;
    assert_eq!(status, 200);
}

/// Two moves that would each be fine alone but together close a loop (a into b, b into a)
/// run concurrently many times: at most one of each pair wins, and the tree never has a cycle.
#[tokio::test]
async fn concurrent_opposite_moves_never_create_a_cycle() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    for round in 0..10 {
        let a = folder_id(&app, &alice, &alice.root, &format!("a{round}")).await;
        let b = folder_id(&app, &alice, &alice.root, &format!("b{round}")).await;
        let path_a = format!("/api/v1/folders/{a}");
        let path_b = format!("/api/v1/folders/{b}");
        let (first, second) = tokio::join!(
            app.wd(t, "PATCH", &path_a, Some(json!({"ParentFolderId": b}))),
            app.wd(t, "PATCH", &path_b, Some(json!({"ParentFolderId": a}))),
        );
        let wins = [first.0, second.0].iter().filter(|s| **s == 200).count();
        assert_eq!(wins, 1, "{first:?} {second:?}");
        for loser in [first, second].into_iter().filter(|r| r.0 != 200) {
            assert_eq!((loser.0, loser.1.as_deref()), (409, Some(CONFLICTING)));
        }
        let cyclic: bool = sqlx::query_scalar(
            "WITH RECURSIVE up (id, parent, depth) AS (
                 SELECT resource_id, parent_id, 0 FROM wd_resources WHERE resource_id = $1
               UNION ALL
                 SELECT r.resource_id, r.parent_id, u.depth + 1
                 FROM wd_resources r JOIN up u ON r.resource_id = u.parent WHERE u.depth < 10)
             SELECT max(depth) >= 10 FROM up",
        )
        .bind(&a)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert!(!cyclic);
    }
}

#[tokio::test]
async fn recycling_hides_an_item_until_it_is_restored() {
    let app = &spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let a = folder_id(app, &alice, &alice.root, "a").await;
    let inner = folder_id(app, &alice, &a, "inner").await;
    let patch = |body: Value| {
        let path = format!("/api/v1/folders/{a}");
        async move { app.wd(t, "PATCH", &path, Some(body)).await }
    };
    assert_eq!(patch(json!({"ResourceState": "RECYCLED"})).await.0, 200);
    let row = stored(app, &a).await.unwrap();
    assert_eq!(
        (row.resource_state.as_str(), row.parent_id.as_deref()),
        ("RECYCLED", Some(alice.root.as_str()))
    );
    let (_, _, body) = app
        .wd(t, "GET", &format!("/api/v1/folders/{a}"), None)
        .await;
    assert_eq!(body["Metadata"]["ResourceState"], "RECYCLED");
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/folders/{}/contents", alice.root),
            None,
        )
        .await;
    assert_eq!(body["Folders"], json!([]));
    // Recycled: no renaming or moving, except while restoring.
    refused(
        patch(json!({"Name": "nope"})).await,
        409,
        "ProhibitedStateException",
    );
    let other = folder_id(app, &alice, &alice.root, "other").await;
    refused(
        app.wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{other}"),
            Some(json!({"ParentFolderId": inner})),
        )
        .await,
        409,
        "ProhibitedStateException",
    );

    assert_eq!(
        patch(json!({"ResourceState": "ACTIVE", "Name": "back"}))
            .await
            .0,
        200
    );
    let row = stored(app, &a).await.unwrap();
    assert_eq!(
        (row.resource_state.as_str(), row.name.as_str()),
        ("ACTIVE", "back")
    );
    assert_eq!(
        activity_types(app, &a).await,
        vec![
            "FOLDER_CREATED",
            "FOLDER_RECYCLED",
            "FOLDER_RESTORED",
            "FOLDER_RENAMED"
        ]
    );
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/folders/{}/contents", alice.root),
            None,
        )
        .await;
    assert_eq!(ids(&body["Folders"]), vec![a.clone(), other.clone()]);
}

#[tokio::test]
async fn the_root_folder_and_recycle_bin_cannot_be_changed_or_deleted() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let a = folder_id(&app, &alice, &alice.root, "a").await;
    for auth in [Auth::Token(&alice.token), Auth::Admin(&app.account)] {
        for special in [&alice.root, &alice.recycle_bin] {
            for body in [
                json!({"Name": "mine"}),
                json!({"ResourceState": "RECYCLED"}),
                json!({"ParentFolderId": a}),
            ] {
                refused(
                    app.wd(
                        auth,
                        "PATCH",
                        &format!("/api/v1/folders/{special}"),
                        Some(body),
                    )
                    .await,
                    409,
                    "ProhibitedStateException",
                );
            }
            refused(
                app.wd(auth, "DELETE", &format!("/api/v1/folders/{special}"), None)
                    .await,
                409,
                "ProhibitedStateException",
            );
        }
    }
    let root = stored(&app, &alice.root).await.unwrap();
    assert_eq!(
        (root.name.as_str(), root.resource_state.as_str()),
        ("ROOT", "ACTIVE")
    );
    assert!(stored(&app, &alice.recycle_bin).await.is_some());
}

#[tokio::test]
async fn delete_folder_removes_its_contents_and_grants_and_keeps_the_activity() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let a = folder_id(&app, &alice, &alice.root, "a").await;
    let b = folder_id(&app, &alice, &a, "b").await;
    let doc = document_id(&app, &alice, &b, "doc").await;
    let keep = folder_id(&app, &alice, &alice.root, "keep").await;
    grant(&app, &b, &bob, "VIEWER").await;

    let res = app
        .http
        .delete(format!("{}/api/v1/folders/{a}", app.address))
        .header("Authentication", format!("Bearer {}", alice.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    for gone in [&a, &b, &doc] {
        assert!(stored(&app, gone).await.is_none());
    }
    assert!(stored(&app, &keep).await.is_some());
    let grants: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_grants")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(grants, 0);
    assert_eq!(
        activity_types(&app, &a).await,
        vec!["FOLDER_CREATED", "FOLDER_DELETED"]
    );
    refused(
        app.wd(
            Auth::Token(&alice.token),
            "GET",
            &format!("/api/v1/folders/{a}"),
            None,
        )
        .await,
        404,
        "UnauthorizedResourceAccessException",
    );
    // The administrator deletes too; a folder id is no document id.
    refused(
        app.wd(
            Auth::Admin(&app.account),
            "DELETE",
            &format!("/api/v1/documents/{keep}"),
            None,
        )
        .await,
        404,
        "EntityNotExistsException",
    );
    let (status, _, _) = app
        .wd(
            Auth::Admin(&app.account),
            "DELETE",
            &format!("/api/v1/folders/{keep}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        activities(&app, &keep).await[1].1,
        admin_principal(&app.account)
    );
}

#[tokio::test]
async fn initiate_upload_creates_an_initialized_document_with_an_upload_url() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let (status, code, body) = initiate(
        &app,
        Auth::Token(&alice.token),
        json!({
            "Name": "report.pdf",
            "ParentFolderId": alice.root,
            "ContentType": "application/pdf",
            "DocumentSizeInBytes": 1234,
            "ContentCreatedTimestamp": 1704164645,
            "ContentModifiedTimestamp": 1704164645.5,
        }),
    )
    .await;
    assert_eq!((status, code), (201, None), "{body}");
    let m = &body["Metadata"];
    assert!(is_hex64(&m["Id"]));
    let id = m["Id"].as_str().unwrap();
    assert_eq!(m["CreatorId"], alice.id.as_str());
    assert_eq!(m["ParentFolderId"], alice.root.as_str());
    assert_eq!(m["ResourceState"], "ACTIVE");
    assert!(m["CreatedTimestamp"].is_number() && m["ModifiedTimestamp"].is_number());
    let v = &m["LatestVersionMetadata"];
    let version = v["Id"].as_str().unwrap();
    let (millis, hex) = version.split_once('-').unwrap();
    assert!(
        millis.parse::<i64>().is_ok() && hex.len() == 64,
        "{version}"
    );
    assert_eq!(v["Name"], "report.pdf");
    assert_eq!(v["ContentType"], "application/pdf");
    assert_eq!(v["Size"], 1234);
    assert_eq!(v["Status"], "INITIALIZED");
    assert_eq!(v["CreatorId"], alice.id.as_str());
    assert_eq!(v["ContentCreatedTimestamp"].as_f64(), Some(1704164645.0));
    assert_eq!(v["ContentModifiedTimestamp"].as_f64(), Some(1704164645.5));
    let upload = &body["UploadMetadata"];
    assert_eq!(
        upload["UploadUrl"],
        format!(
            "http://127.0.0.1:{}/api/v1/grantd/upload/{id}/{version}",
            app.port
        )
        .as_str()
    );
    assert_eq!(
        upload["SignedHeaders"],
        json!({"Content-Type": "application/pdf"})
    );

    let row = stored(&app, id).await.unwrap();
    assert_eq!(
        (
            row.kind.as_str(),
            row.owner_id.as_str(),
            row.version_id.as_deref(),
            row.version_status.as_deref(),
            row.size
        ),
        (
            "DOCUMENT",
            alice.id.as_str(),
            Some(version),
            Some("INITIALIZED"),
            1234
        )
    );
    assert_eq!(
        activity_types(&app, id).await,
        vec!["DOCUMENT_VERSION_UPLOADED"]
    );

    let (status, _, got) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/documents/{id}?includeCustomMetadata=false"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["Metadata"], body["Metadata"]);
}

#[tokio::test]
async fn initiate_upload_with_an_id_makes_a_new_version_of_that_document() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let doc = document_id(&app, &alice, &alice.root, "v1.txt").await;
    let first = stored(&app, &doc).await.unwrap().version_id.unwrap();
    let (status, _, body) = initiate(
        &app,
        Auth::Admin(&app.account),
        json!({"Id": doc, "Name": "v2.txt", "DocumentSizeInBytes": 7}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let m = &body["Metadata"];
    assert_eq!(m["Id"], doc.as_str());
    let v = &m["LatestVersionMetadata"];
    assert_ne!(v["Id"], first.as_str());
    assert_eq!(
        (v["Name"].as_str(), v["Size"].as_i64()),
        (Some("v2.txt"), Some(7))
    );
    assert_eq!(v["ContentType"], "text/plain");
    assert!(v.get("ContentCreatedTimestamp").is_none());
    assert_eq!(
        body["UploadMetadata"]["SignedHeaders"]["Content-Type"],
        "text/plain"
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM wd_resources WHERE kind = 'DOCUMENT'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let acts = activities(&app, &doc).await;
    assert_eq!(acts.len(), 2);
    assert_eq!(
        acts[1],
        (
            "DOCUMENT_VERSION_UPLOADED".into(),
            admin_principal(&app.account),
            None,
            Some("v1.txt".into())
        )
    );

    // Refusals.
    let folder = folder_id(&app, &alice, &alice.root, "f").await;
    refused(
        initiate(&app, t, json!({"Id": folder})).await,
        404,
        "EntityNotExistsException",
    );
    refused(
        initiate(&app, t, json!({"Id": doc, "ParentFolderId": folder})).await,
        400,
        "InvalidArgumentException",
    );
    let body = refused(
        initiate(&app, t, json!({"ContentType": ""})).await,
        400,
        "ValidationException",
    );
    assert_eq!(
        body["Message"],
        "3 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value '' at 'contentType' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'parentFolderId' failed to satisfy constraint: Member must not be null"
    );
    refused(
        initiate(
            &app,
            t,
            json!({"Name": "n", "ParentFolderId": alice.root, "DocumentSizeInBytes": -1}),
        )
        .await,
        400,
        "InvalidArgumentException",
    );
    refused(initiate(&app, t, json!({"Name": "n", "ParentFolderId": alice.root, "ContentCreatedTimestamp": "2024-01-02T03:04:05Z"})).await, 400, "SerializationException");
    // A recycled document takes no new version until restored.
    let (status, _, _) = app
        .wd(
            t,
            "PATCH",
            &format!("/api/v1/documents/{doc}"),
            Some(json!({"ResourceState": "RECYCLED"})),
        )
        .await;
    assert_eq!(status, 200);
    refused(
        initiate(&app, t, json!({"Id": doc})).await,
        409,
        "ProhibitedStateException",
    );
}

#[tokio::test]
async fn update_and_delete_document_rename_move_recycle_and_remove_it() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let folder = folder_id(&app, &alice, &alice.root, "folder").await;
    let doc = document_id(&app, &alice, &alice.root, "doc.txt").await;
    let path = format!("/api/v1/documents/{doc}");
    let (status, _, body) = app
        .wd(
            t,
            "PATCH",
            &path,
            Some(json!({"Name": "renamed.txt", "ParentFolderId": folder})),
        )
        .await;
    assert_eq!((status, body), (200, Value::Null));
    let row = stored(&app, &doc).await.unwrap();
    assert_eq!(
        (row.name.as_str(), row.parent_id.as_deref()),
        ("renamed.txt", Some(folder.as_str()))
    );
    let (_, _, body) = app.wd(t, "GET", &path, None).await;
    assert_eq!(
        body["Metadata"]["LatestVersionMetadata"]["Name"],
        "renamed.txt"
    );
    assert_eq!(body["Metadata"]["ParentFolderId"], folder.as_str());
    let (_, _, body) = app
        .wd(t, "GET", &format!("{path}/path?fields=NAME"), None)
        .await;
    assert_eq!(
        names(&body["Path"]["Components"]),
        vec!["ROOT", "folder", "renamed.txt"]
    );

    let (status, _, _) = app
        .wd(
            Auth::Admin(&app.account),
            "PATCH",
            &path,
            Some(json!({"ResourceState": "RECYCLED"})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!(
                "/api/v1/folders/{}/contents?include=INITIALIZED",
                alice.recycle_bin
            ),
            None,
        )
        .await;
    assert_eq!(ids(&body["Documents"]), vec![doc.clone()]);
    let (_, _, body) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/folders/{folder}/contents?include=INITIALIZED"),
            None,
        )
        .await;
    assert_eq!(body["Documents"], json!([]));
    // A document id given as a folder is not one.
    refused(
        app.wd(
            t,
            "PATCH",
            &format!("/api/v1/folders/{doc}"),
            Some(json!({"Name": "x"})),
        )
        .await,
        404,
        "EntityNotExistsException",
    );

    let (status, _, body) = app.wd(t, "DELETE", &path, None).await;
    assert_eq!((status, body), (204, Value::Null));
    assert!(stored(&app, &doc).await.is_none());
    assert_eq!(
        activity_types(&app, &doc).await,
        vec![
            "DOCUMENT_VERSION_UPLOADED",
            "DOCUMENT_RENAMED",
            "DOCUMENT_MOVED",
            "DOCUMENT_RECYCLED",
            "DOCUMENT_DELETED"
        ]
    );
    refused(
        app.wd(t, "GET", &path, None).await,
        404,
        "UnauthorizedResourceAccessException",
    );
}

#[tokio::test]
async fn describe_root_folders_is_token_only_and_pages() {
    let app = spawn_app().await;
    let alice = app.wd_user(&app.account, "alice").await;
    let t = Auth::Token(&alice.token);
    let (status, _, body) = app.wd(t, "GET", "/api/v1/me/root", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        ids(&body["Folders"]),
        vec![alice.root.clone(), alice.recycle_bin.clone()]
    );
    let root = &body["Folders"][0];
    assert_eq!(root["CreatorId"], alice.id.as_str());
    assert_eq!(root["ResourceState"], "ACTIVE");
    assert!(root.get("ParentFolderId").is_none() && root["CreatedTimestamp"].is_number());
    assert!(body.get("Marker").is_none());

    let (_, _, first) = app.wd(t, "GET", "/api/v1/me/root?limit=1", None).await;
    assert_eq!(ids(&first["Folders"]), vec![alice.root.clone()]);
    let marker = first["Marker"].as_str().unwrap();
    let (_, _, second) = app
        .wd(
            t,
            "GET",
            &format!("/api/v1/me/root?limit=1&marker={marker}"),
            None,
        )
        .await;
    assert_eq!(ids(&second["Folders"]), vec![alice.recycle_bin.clone()]);
    assert!(second.get("Marker").is_none());
    refused(
        app.wd(t, "GET", "/api/v1/me/root?limit=0", None).await,
        400,
        "InvalidArgumentException",
    );

    refused(
        app.wd(Auth::Admin(&app.account), "GET", "/api/v1/me/root", None)
            .await,
        403,
        "UnauthorizedOperationException",
    );
    refused(
        app.wd(
            Auth::Token("gdt_not-a-token"),
            "GET",
            "/api/v1/me/root",
            None,
        )
        .await,
        404,
        "UnauthorizedResourceAccessException",
    );
}
