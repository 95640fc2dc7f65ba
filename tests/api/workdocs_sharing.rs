//! Sharing, inheritance, roles, shared-with-me, activities and notifications (issue 4,
//! aws-wire.md §6.4–§6.5). Folders and documents are inserted directly so that these
//! tests depend only on the sharing slice.

use crate::helpers::{spawn_app, TestApp};
use crate::workdocs_helpers::{enc, Auth, WdUser};
use serde_json::{json, Value};

/// A folder (or document) under `parent`, in `owner`'s tree.
async fn insert(app: &TestApp, owner: &WdUser, parent: &str, name: &str, kind: &str) -> String {
    let id = grantd::workdocs::ids::new_resource_id();
    sqlx::query(
        "INSERT INTO wd_resources (account_id, resource_id, kind, parent_id, owner_id, creator_id, name, version_id, version_status)
         VALUES ($1, $2, $3, $4, $5, $5, $6, CASE WHEN $3 = 'DOCUMENT' THEN '1-abc' END, CASE WHEN $3 = 'DOCUMENT' THEN 'ACTIVE' END)",
    )
    .bind(&owner.account.account_id)
    .bind(&id)
    .bind(kind)
    .bind(parent)
    .bind(&owner.id)
    .bind(name)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

fn share(principals: Value) -> Value {
    json!({ "Principals": principals })
}

fn perms(id: &str) -> String {
    format!("/api/v1/resources/{id}/permissions")
}

async fn grants(app: &TestApp, resource: &str) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT principal_id, principal_type, role FROM wd_grants WHERE resource_id = $1 ORDER BY principal_id")
        .bind(resource)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

async fn activity_types(app: &TestApp, resource: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT activity_type FROM wd_activities WHERE resource_id = $1 ORDER BY activity_id",
    )
    .bind(resource)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn add_permissions_answers_each_principal_in_order_and_applies_the_valid_ones() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let group = app.wd_group(&app.account, "team", &[&bob]).await;
    let other_tenant = app.create_account(None).await;
    let stranger = app.wd_user(&other_tenant, "stranger").await;
    let folder = insert(&app, &owner, &owner.root, "shared", "FOLDER").await;
    let before: i64 =
        sqlx::query_scalar("SELECT permissions_revision FROM wd_resources WHERE resource_id = $1")
            .bind(&folder)
            .fetch_one(&app.pool)
            .await
            .unwrap();

    let (status, _, body) = app
        .wd(
            Auth::Token(&owner.token),
            "POST",
            &perms(&folder),
            Some(share(json!([
                {"Id": bob.id, "Type": "USER", "Role": "CONTRIBUTOR"},
                {"Id": group, "Type": "GROUP", "Role": "VIEWER"},
                {"Id": stranger.id, "Type": "USER", "Role": "VIEWER"},
                {"Id": bob.id, "Type": "USER", "Role": "OWNER"},
                {"Id": "anonymous", "Type": "ANONYMOUS", "Role": "CONTRIBUTOR"},
                {"Id": app.account.directory_id, "Type": "ORGANIZATION", "Role": "VIEWER"},
                {"Id": other_tenant.directory_id, "Type": "ORGANIZATION", "Role": "VIEWER"},
                {"Id": "new.person@example.org", "Type": "INVITE", "Role": "VIEWER"},
                {"Id": "someone@example.org", "Type": "INVITE", "Role": "COOWNER"},
            ]))),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let results = body["ShareResults"].as_array().unwrap();
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["Status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "SUCCESS", "SUCCESS", "FAILURE", "FAILURE", "FAILURE", "SUCCESS", "FAILURE", "SUCCESS",
            "FAILURE"
        ]
    );
    for (r, p) in results.iter().zip([&bob.id, &group, &stranger.id]) {
        assert_eq!(&r["PrincipalId"], p.as_str());
        assert_eq!(r["ShareId"], folder.as_str());
    }
    assert_eq!(results[0]["StatusMessage"], "");
    assert_ne!(results[2]["StatusMessage"], "");
    let invitee = results[7]["InviteePrincipalId"].as_str().unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM wd_users WHERE user_id = $1")
        .bind(invitee)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "PENDING");

    let mut expected = vec![
        (bob.id.clone(), "USER".to_owned(), "CONTRIBUTOR".to_owned()),
        (group.clone(), "GROUP".into(), "VIEWER".into()),
        (
            app.account.directory_id.clone(),
            "ORGANIZATION".into(),
            "VIEWER".into(),
        ),
        (invitee.to_owned(), "INVITE".into(), "VIEWER".into()),
    ];
    expected.sort();
    assert_eq!(grants(&app, &folder).await, expected);
    let after: i64 =
        sqlx::query_scalar("SELECT permissions_revision FROM wd_resources WHERE resource_id = $1")
            .bind(&folder)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(after > before);
    assert_eq!(
        activity_types(&app, &folder).await,
        vec!["FOLDER_SHARED"; 4]
    );

    // The invitation is removed by the e-mail it was shared with, as by the invitee's id.
    let (status, _, _) = app
        .wd(
            Auth::Token(&owner.token),
            "DELETE",
            &format!("{}/new.person%40example.org", perms(&folder)),
            None,
        )
        .await;
    assert_eq!(status, 204);
    expected.retain(|(id, _, _)| id != invitee);
    assert_eq!(grants(&app, &folder).await, expected);
}

#[tokio::test]
async fn a_different_role_overwrites_and_the_same_role_is_a_no_op() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let doc = insert(&app, &owner, &owner.root, "doc.txt", "DOCUMENT").await;
    for role in ["VIEWER", "CONTRIBUTOR", "CONTRIBUTOR", "VIEWER"] {
        let (status, _, body) = app
            .wd(
                Auth::Admin(&app.account),
                "POST",
                &perms(&doc),
                Some(share(json!([{"Id": bob.id, "Type": "USER", "Role": role}]))),
            )
            .await;
        assert_eq!(
            (status, body["ShareResults"][0]["Status"].as_str()),
            (201, Some("SUCCESS"))
        );
    }
    assert_eq!(
        grants(&app, &doc).await,
        vec![(bob.id.clone(), "USER".into(), "VIEWER".into())]
    );
    assert_eq!(
        activity_types(&app, &doc).await,
        [
            "DOCUMENT_SHARED",
            "DOCUMENT_SHARE_PERMISSION_CHANGED",
            "DOCUMENT_SHARE_PERMISSION_CHANGED"
        ]
    );
}

#[tokio::test]
async fn add_permissions_refuses_bad_requests_and_changes_nothing() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let folder = insert(&app, &owner, &owner.root, "f", "FOLDER").await;
    let cases = [
        (json!({}), 400, "ValidationException"),
        (share(json!([])), 400, "InvalidArgumentException"),
        (
            share(json!([{"Id": owner.id, "Type": "PERSON", "Role": "VIEWER"}])),
            400,
            "ValidationException",
        ),
        (
            share(json!([{"Id": "bad id", "Type": "USER", "Role": "VIEWER"}])),
            400,
            "ValidationException",
        ),
        (json!({"Principals": "x"}), 400, "SerializationException"),
    ];
    for (body, status, code) in cases {
        let (s, c, answer) = app
            .wd(
                Auth::Token(&owner.token),
                "POST",
                &perms(&folder),
                Some(body.clone()),
            )
            .await;
        assert_eq!((s, c.as_deref()), (status, Some(code)), "{body} → {answer}");
    }
    let (_, _, answer) = app
        .wd(
            Auth::Token(&owner.token),
            "POST",
            &perms(&folder),
            Some(share(
                json!([{"Id": owner.id, "Type": "PERSON", "Role": "BOSS"}]),
            )),
        )
        .await;
    assert_eq!(
        answer["Message"],
        "2 validation errors detected: Value 'PERSON' at 'principals.1.member.type' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP, INVITE, ANONYMOUS, ORGANIZATION]; Value 'BOSS' at 'principals.1.member.role' failed to satisfy constraint: Member must satisfy enum value set: [VIEWER, CONTRIBUTOR, OWNER, COOWNER]"
    );
    sqlx::query("UPDATE wd_resources SET resource_state = 'RECYCLED' WHERE resource_id = $1")
        .bind(&folder)
        .execute(&app.pool)
        .await
        .unwrap();
    let (s, c, _) = app
        .wd(
            Auth::Token(&owner.token),
            "POST",
            &perms(&folder),
            Some(share(
                json!([{"Id": "anonymous", "Type": "ANONYMOUS", "Role": "VIEWER"}]),
            )),
        )
        .await;
    assert_eq!((s, c.as_deref()), (409, Some("ProhibitedStateException")));
    assert!(grants(&app, &folder).await.is_empty());
    assert!(activity_types(&app, &folder).await.is_empty());
}

#[tokio::test]
async fn a_folder_share_reaches_a_document_three_levels_down_until_revoked() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let a = insert(&app, &owner, &owner.root, "a", "FOLDER").await;
    let b = insert(&app, &owner, &a, "b", "FOLDER").await;
    let c = insert(&app, &owner, &b, "c", "FOLDER").await;
    let doc = insert(&app, &owner, &c, "deep.txt", "DOCUMENT").await;

    let (status, code, hidden) = app
        .wd(Auth::Token(&bob.token), "GET", &perms(&doc), None)
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("UnauthorizedResourceAccessException"))
    );

    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&a),
        Some(share(
            json!([{"Id": bob.id, "Type": "USER", "Role": "VIEWER"}]),
        )),
    )
    .await;
    let (status, _, body) = app
        .wd(Auth::Token(&bob.token), "GET", &perms(&doc), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Principals"],
        json!([
            {"Id": owner.id, "Type": "USER", "Roles": [{"Role": "OWNER", "Type": "DIRECT"}]},
            {"Id": bob.id, "Type": "USER", "Roles": [{"Role": "VIEWER", "Type": "INHERITED"}]},
        ])
    );
    let (_, _, mine) = app
        .wd(
            Auth::Token(&bob.token),
            "GET",
            "/api/v1/resources?collectionType=SHARED_WITH_ME",
            None,
        )
        .await;
    assert_eq!(mine["Folders"].as_array().unwrap().len(), 1);
    assert_eq!(mine["Folders"][0]["Id"], a.as_str());
    assert_eq!(mine["Documents"], json!([]));

    let (status, _, _) = app
        .wd(
            Auth::Token(&owner.token),
            "DELETE",
            &format!("{}/{}", perms(&a), enc(&bob.id)),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, code, body) = app
        .wd(Auth::Token(&bob.token), "GET", &perms(&doc), None)
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("UnauthorizedResourceAccessException"))
    );
    assert_eq!(body, hidden);
    let (_, _, mine) = app
        .wd(
            Auth::Token(&bob.token),
            "GET",
            "/api/v1/resources?collectionType=SHARED_WITH_ME",
            None,
        )
        .await;
    assert_eq!(mine, json!({"Folders": [], "Documents": []}));
}

#[tokio::test]
async fn describe_lists_direct_and_inherited_roles_with_filter_and_paging() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let carol = app.wd_user(&app.account, "carol").await;
    let parent = insert(&app, &owner, &owner.root, "p", "FOLDER").await;
    let child = insert(&app, &owner, &parent, "c", "FOLDER").await;
    app.wd(Auth::Admin(&app.account), "POST", &perms(&parent), Some(share(json!([{"Id": bob.id, "Type": "USER", "Role": "VIEWER"}, {"Id": carol.id, "Type": "USER", "Role": "VIEWER"}])))).await;
    app.wd(
        Auth::Admin(&app.account),
        "POST",
        &perms(&child),
        Some(share(
            json!([{"Id": bob.id, "Type": "USER", "Role": "COOWNER"}]),
        )),
    )
    .await;

    let (_, _, body) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("{}?principalId={}", perms(&child), enc(&bob.id)),
            None,
        )
        .await;
    assert_eq!(
        body["Principals"],
        json!([{"Id": bob.id, "Type": "USER", "Roles": [{"Role": "COOWNER", "Type": "DIRECT"}, {"Role": "VIEWER", "Type": "INHERITED"}]}])
    );
    let mut seen = Vec::new();
    let mut marker = String::new();
    loop {
        let (status, _, page) = app
            .wd(
                Auth::Token(&carol.token),
                "GET",
                &format!("{}?limit=1{marker}", perms(&child)),
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(page["Principals"].as_array().unwrap().len(), 1);
        seen.push(page["Principals"][0]["Id"].as_str().unwrap().to_owned());
        match page.get("Marker").and_then(Value::as_str) {
            Some(m) => marker = format!("&marker={m}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0], owner.id);
    for bad in ["?limit=0", "?limit=1000", "?limit=x", "?marker=%25%25"] {
        let (status, code, _) = app
            .wd(
                Auth::Admin(&app.account),
                "GET",
                &format!("{}{bad}", perms(&child)),
                None,
            )
            .await;
        assert_eq!(
            (status, code.as_deref()),
            (400, Some("InvalidArgumentException")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn roles_decide_who_may_share_and_strangers_see_nothing() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let viewer = app.wd_user(&app.account, "viewer").await;
    let contributor = app.wd_user(&app.account, "contributor").await;
    let coowner = app.wd_user(&app.account, "coowner").await;
    let outsider = app.wd_user(&app.account, "outsider").await;
    let other_tenant = app.create_account(None).await;
    let foreign = app.wd_user(&other_tenant, "foreign").await;
    let folder = insert(&app, &owner, &owner.root, "f", "FOLDER").await;
    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&folder),
        Some(share(json!([
            {"Id": viewer.id, "Type": "USER", "Role": "VIEWER"},
            {"Id": contributor.id, "Type": "USER", "Role": "CONTRIBUTOR"},
            {"Id": coowner.id, "Type": "USER", "Role": "COOWNER"},
        ]))),
    )
    .await;
    let grant = |id: &str| Some(share(json!([{"Id": id, "Type": "USER", "Role": "VIEWER"}])));
    for who in [&viewer, &contributor] {
        let (status, code, _) = app
            .wd(
                Auth::Token(&who.token),
                "POST",
                &perms(&folder),
                grant(&outsider.id),
            )
            .await;
        assert_eq!(
            (status, code.as_deref()),
            (403, Some("UnauthorizedOperationException"))
        );
        let (status, _, _) = app
            .wd(Auth::Token(&who.token), "DELETE", &perms(&folder), None)
            .await;
        assert_eq!(status, 403);
    }
    let (status, _, _) = app
        .wd(
            Auth::Token(&coowner.token),
            "POST",
            &perms(&folder),
            grant(&outsider.id),
        )
        .await;
    assert_eq!(status, 201);

    // Not visible, foreign tenant, or nonexistent: the same 404, message included.
    let missing = grantd::workdocs::ids::new_resource_id();
    let foreign_folder = insert(&app, &foreign, &foreign.root, "theirs", "FOLDER").await;
    let mut answers = Vec::new();
    for id in [&foreign_folder, &missing] {
        let (status, code, body) = app
            .wd(Auth::Token(&viewer.token), "GET", &perms(id), None)
            .await;
        assert_eq!(
            (status, code.as_deref()),
            (404, Some("UnauthorizedResourceAccessException"))
        );
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    let (status, _, _) = app
        .wd(Auth::Admin(&other_tenant), "GET", &perms(&folder), None)
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &perms(&foreign_folder),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, code, _) = app.wd(Auth::None, "GET", &perms(&folder), None).await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("MissingAuthenticationTokenException"))
    );
    let (status, code, _) = app
        .wd(Auth::Token("gdt_not-a-token"), "GET", &perms(&folder), None)
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (404, Some("UnauthorizedResourceAccessException"))
    );
}

#[tokio::test]
async fn removing_permissions_follows_the_owner_and_self_rules() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let carol = app.wd_user(&app.account, "carol").await;
    let folder = insert(&app, &owner, &owner.root, "f", "FOLDER").await;
    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&folder),
        Some(share(json!([
            {"Id": bob.id, "Type": "USER", "Role": "VIEWER"},
            {"Id": carol.id, "Type": "USER", "Role": "VIEWER"},
            {"Id": "anonymous", "Type": "ANONYMOUS", "Role": "VIEWER"},
        ]))),
    )
    .await;
    let remove = |who: &str| format!("{}/{}", perms(&folder), enc(who));
    let (status, code, _) = app
        .wd(Auth::Token(&bob.token), "DELETE", &remove(&carol.id), None)
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("UnauthorizedOperationException"))
    );
    let (status, _, _) = app
        .wd(Auth::Token(&bob.token), "DELETE", &remove(&bob.id), None)
        .await;
    assert_eq!(status, 204, "a viewer may remove themselves");
    let (status, code, _) = app
        .wd(
            Auth::Token(&owner.token),
            "DELETE",
            &remove(&owner.id),
            None,
        )
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (403, Some("UnauthorizedOperationException"))
    );
    // The type filter only removes a grant of that type; removing again is fine.
    let (status, _, _) = app
        .wd(
            Auth::Token(&owner.token),
            "DELETE",
            &format!("{}?type=GROUP", remove(&carol.id)),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(grants(&app, &folder).await.len(), 2);
    let (status, _, _) = app
        .wd(
            Auth::Token(&owner.token),
            "DELETE",
            &format!("{}?type=USER", remove(&carol.id)),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = app
        .wd(
            Auth::Token(&owner.token),
            "DELETE",
            &remove(&carol.id),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        grants(&app, &folder).await,
        vec![("anonymous".into(), "ANONYMOUS".into(), "VIEWER".into())]
    );
    for _ in 0..2 {
        let (status, _, body) = app
            .wd(Auth::Token(&owner.token), "DELETE", &perms(&folder), None)
            .await;
        assert_eq!((status, body), (204, Value::Null));
    }
    assert!(grants(&app, &folder).await.is_empty());
    let (_, _, body) = app
        .wd(Auth::Token(&owner.token), "GET", &perms(&folder), None)
        .await;
    assert_eq!(
        body["Principals"],
        json!([{"Id": owner.id, "Type": "USER", "Roles": [{"Role": "OWNER", "Type": "DIRECT"}]}])
    );
    assert_eq!(
        activity_types(&app, &folder).await,
        [
            "FOLDER_SHARED",
            "FOLDER_SHARED",
            "FOLDER_SHARED",
            "FOLDER_UNSHARED",
            "FOLDER_UNSHARED",
            "FOLDER_UNSHARED"
        ]
    );
}

#[tokio::test]
async fn group_and_organization_grants_apply_to_members() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let member = app.wd_user(&app.account, "member").await;
    let nobody = app.wd_user(&app.account, "nobody").await;
    let group = app.wd_group(&app.account, "team", &[&member]).await;
    let folder = insert(&app, &owner, &owner.root, "team", "FOLDER").await;
    let org_folder = insert(&app, &owner, &owner.root, "everyone", "FOLDER").await;
    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&folder),
        Some(share(
            json!([{"Id": group, "Type": "GROUP", "Role": "COOWNER"}]),
        )),
    )
    .await;
    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&org_folder),
        Some(share(
            json!([{"Id": app.account.directory_id, "Type": "ORGANIZATION", "Role": "VIEWER"}]),
        )),
    )
    .await;
    assert_eq!(
        app.wd(Auth::Token(&member.token), "GET", &perms(&folder), None)
            .await
            .0,
        200
    );
    assert_eq!(
        app.wd(Auth::Token(&nobody.token), "GET", &perms(&folder), None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.wd(Auth::Token(&nobody.token), "GET", &perms(&org_folder), None)
            .await
            .0,
        200
    );
    // Co-owner through the group: may share.
    let (status, _, _) = app
        .wd(
            Auth::Token(&member.token),
            "POST",
            &perms(&folder),
            Some(share(
                json!([{"Id": nobody.id, "Type": "USER", "Role": "VIEWER"}]),
            )),
        )
        .await;
    assert_eq!(status, 201);
    let (_, _, mine) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/resources?userId={}", enc(&member.id)),
            None,
        )
        .await;
    let ids: Vec<&str> = mine["Folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&folder.as_str()) && ids.contains(&org_folder.as_str()));
    let (status, code, _) = app
        .wd(Auth::Admin(&app.account), "GET", "/api/v1/resources", None)
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidArgumentException"))
    );
    sqlx::query("DELETE FROM wd_group_members WHERE user_id = $1")
        .bind(&member.id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        app.wd(Auth::Token(&member.token), "GET", &perms(&folder), None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn describe_activities_filters_and_derives_indirect_activities() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let folder = insert(&app, &owner, &owner.root, "f", "FOLDER").await;
    let doc = insert(&app, &owner, &folder, "d.txt", "DOCUMENT").await;
    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&folder),
        Some(share(
            json!([{"Id": bob.id, "Type": "USER", "Role": "VIEWER"}]),
        )),
    )
    .await;
    app.wd(
        Auth::Token(&owner.token),
        "POST",
        &perms(&doc),
        Some(share(
            json!([{"Id": bob.id, "Type": "USER", "Role": "CONTRIBUTOR"}]),
        )),
    )
    .await;

    let (status, code, _) = app
        .wd(Auth::Admin(&app.account), "GET", "/api/v1/activities", None)
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidArgumentException"))
    );
    let org = &app.account.directory_id;
    let (status, _, all) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/activities?organizationId={org}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let list = all["UserActivities"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["Type"], "DOCUMENT_SHARED");
    assert!(list[0]["TimeStamp"].is_f64());
    assert_eq!(list[0]["Initiator"]["Id"], owner.id.as_str());
    assert_eq!(list[0]["Participants"]["Users"][0]["Id"], bob.id.as_str());
    assert_eq!(list[0]["Participants"]["Users"][0]["Username"], "bob");

    let (_, _, direct) = app
        .wd(
            Auth::Token(&bob.token),
            "GET",
            &format!("/api/v1/activities?resourceId={doc}"),
            None,
        )
        .await;
    assert_eq!(direct["UserActivities"].as_array().unwrap().len(), 1);
    let (_, _, with_indirect) = app
        .wd(
            Auth::Token(&bob.token),
            "GET",
            &format!("/api/v1/activities?resourceId={doc}&includeIndirectActivities=true"),
            None,
        )
        .await;
    let list = with_indirect["UserActivities"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (
            list[1]["Type"].as_str(),
            list[1]["IsIndirectActivity"].as_bool()
        ),
        (Some("FOLDER_SHARED"), Some(true))
    );

    let (_, _, typed) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/activities?organizationId={org}&activityTypes=FOLDER_SHARED&limit=1"),
            None,
        )
        .await;
    assert_eq!(typed["UserActivities"].as_array().unwrap().len(), 1);
    assert!(typed.get("Marker").is_none());
    let (status, code, _) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/activities?organizationId={org}&activityTypes=NOPE"),
            None,
        )
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("InvalidArgumentException"))
    );
    // Outside the model's pattern `[\w,]+`: a constraint violation, in the Coral grammar.
    let (status, code, body) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/activities?organizationId={org}&activityTypes=FOLDER%20SHARED"),
            None,
        )
        .await;
    assert_eq!(
        (status, code.as_deref()),
        (400, Some("ValidationException"))
    );
    assert_eq!(
        body["Message"],
        "1 validation error detected: Value 'FOLDER SHARED' at 'activityTypes' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w,]+"
    );
    let (_, _, paged) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/activities?organizationId={org}&limit=1"),
            None,
        )
        .await;
    let marker = paged["Marker"].as_str().unwrap();
    let (_, _, next) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            &format!("/api/v1/activities?organizationId={org}&limit=1&marker={marker}"),
            None,
        )
        .await;
    assert_eq!(next["UserActivities"][0]["Type"], "FOLDER_SHARED");
    let (status, _, _) = app
        .wd(
            Auth::Admin(&app.account),
            "GET",
            "/api/v1/activities?organizationId=d-0000000000",
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn share_notifications_are_queued_with_the_grant_and_delivered_over_smtp() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let folder = insert(&app, &owner, &owner.root, "plans", "FOLDER").await;
    let (status, _, _) = app
        .wd(
            Auth::Token(&owner.token),
            "POST",
            &perms(&folder),
            Some(json!({
                "Principals": [{"Id": bob.id, "Type": "USER", "Role": "VIEWER"}],
                "NotificationOptions": {"SendEmail": true, "EmailMessage": "have a look"},
            })),
        )
        .await;
    assert_eq!(status, 201);
    let queued: Vec<(String, String)> =
        sqlx::query_as("SELECT recipient, body FROM wd_outbox WHERE delivered_at IS NULL")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].0, "bob@example.com");
    assert!(queued[0].1.contains("have a look"));

    // A server that refuses: the message stays, with a later retry.
    let refusing = fake_smtp(false).await;
    let mailer = grantd::workdocs::outbox::Mailer::new(
        &format!("smtp://127.0.0.1:{}", refusing.0).into(),
        "grantd <grantd@example.com>",
    )
    .unwrap();
    assert_eq!(
        grantd::workdocs::outbox::deliver_due(&app.pool, &mailer)
            .await
            .unwrap(),
        0
    );
    let (attempts, later): (i32, bool) =
        sqlx::query_as("SELECT attempts, next_attempt_at > now() FROM wd_outbox")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((attempts, later), (1, true));

    // A server that accepts: delivered once, marked delivered.
    sqlx::query("UPDATE wd_outbox SET next_attempt_at = now()")
        .execute(&app.pool)
        .await
        .unwrap();
    let accepting = fake_smtp(true).await;
    let mailer = grantd::workdocs::outbox::Mailer::new(
        &format!("smtp://127.0.0.1:{}", accepting.0).into(),
        "grantd <grantd@example.com>",
    )
    .unwrap();
    assert_eq!(
        grantd::workdocs::outbox::deliver_due(&app.pool, &mailer)
            .await
            .unwrap(),
        1
    );
    let delivered: bool = sqlx::query_scalar("SELECT delivered_at IS NOT NULL FROM wd_outbox")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(delivered);
    let transcript = accepting.1.await.unwrap();
    assert!(
        transcript.contains("RCPT TO:<bob@example.com>"),
        "{transcript}"
    );
    assert!(transcript.contains("have a look"));
    assert_eq!(
        grantd::workdocs::outbox::deliver_due(&app.pool, &mailer)
            .await
            .unwrap(),
        0
    );
}

/// A one-connection SMTP server on loopback: accepts the message, or refuses the sender.
async fn fake_smtp(accept: bool) -> (u16, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let mut transcript = String::new();
        write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
        let mut in_data = false;
        while let Ok(Some(line)) = lines.next_line().await {
            transcript.push_str(&line);
            transcript.push('\n');
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                }
                continue;
            }
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 fake\r\n"
            } else if upper.starts_with("MAIL FROM") {
                if accept {
                    b"250 ok\r\n"
                } else {
                    b"550 no thanks\r\n"
                }
            } else if upper.starts_with("RCPT TO") {
                b"250 ok\r\n"
            } else if upper == "DATA" {
                in_data = true;
                b"354 go ahead\r\n"
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            if write.write_all(reply).await.is_err() {
                break;
            }
        }
        transcript
    });
    (port, handle)
}

#[tokio::test]
async fn concurrent_shares_and_unshares_of_one_principal_end_in_a_serial_order() {
    let app = spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let folder = insert(&app, &owner, &owner.root, "contested", "FOLDER").await;
    let mut tasks = Vec::new();
    for i in 0..30 {
        let (method, body) = match i % 3 {
            0 => (
                "POST",
                Some(share(
                    json!([{"Id": bob.id, "Type": "USER", "Role": "VIEWER"}]),
                )),
            ),
            1 => (
                "POST",
                Some(share(
                    json!([{"Id": bob.id, "Type": "USER", "Role": "CONTRIBUTOR"}]),
                )),
            ),
            _ => ("DELETE", None),
        };
        let path = match method {
            "POST" => perms(&folder),
            _ => format!("{}/{}", perms(&folder), enc(&bob.id)),
        };
        let http = app.http.clone();
        let url = format!("{}{path}", app.address);
        let token = owner.token.clone();
        tasks.push(tokio::spawn(async move {
            let mut req = http
                .request(method.parse().unwrap(), url)
                .header("Authentication", format!("Bearer {token}"));
            if let Some(body) = body {
                req = req.json(&body);
            }
            req.send().await.unwrap().status().as_u16()
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), 201 | 204));
    }
    // The activity log is the serial order the database chose; replaying it must give the
    // stored state, and there is never more than one DIRECT grant.
    let log: Vec<String> = sqlx::query_scalar(
        "SELECT activity_type FROM wd_activities WHERE resource_id = $1 ORDER BY activity_id",
    )
    .bind(&folder)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let stored = grants(&app, &folder).await;
    assert!(stored.len() <= 1);
    let shared_at_end = log.last().is_some_and(|t| t != "FOLDER_UNSHARED");
    assert_eq!(
        shared_at_end,
        stored.len() == 1,
        "log {log:?} vs stored {stored:?}"
    );
    let revision: i64 =
        sqlx::query_scalar("SELECT permissions_revision FROM wd_resources WHERE resource_id = $1")
            .bind(&folder)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(revision, 30, "every change bumped the revision once");
}
