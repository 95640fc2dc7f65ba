//! aws-sdk-workdocs against grantd: every timestamp must parse, errors must be typed.

use crate::helpers::{TestAccount, TestApp, REGION};
use crate::workdocs_helpers::WdUser;
use aws_credential_types::Credentials;
use aws_sdk_workdocs::error::ProvideErrorMetadata as _;
use aws_sdk_workdocs::types::{PrincipalType, RoleType, SharePrincipal};

fn client(app: &TestApp, account: &TestAccount) -> aws_sdk_workdocs::Client {
    let creds = Credentials::new(&account.access_key_id, &account.secret, None, None, "tests");
    let config = aws_sdk_workdocs::Config::builder()
        .behavior_version(aws_sdk_workdocs::config::BehaviorVersion::latest())
        .region(aws_sdk_workdocs::config::Region::new(REGION))
        .endpoint_url(&app.address)
        .credentials_provider(creds)
        .retry_config(aws_sdk_workdocs::config::retry::RetryConfig::disabled())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_workdocs::Client::from_conf(config)
}

async fn folder(app: &TestApp, owner: &WdUser, name: &str) -> String {
    let id = grantd::workdocs::ids::new_resource_id();
    sqlx::query(
        "INSERT INTO wd_resources (account_id, resource_id, kind, parent_id, owner_id, creator_id, name)
         VALUES ($1, $2, 'FOLDER', $3, $4, $4, $5)",
    )
    .bind(&owner.account.account_id)
    .bind(&id)
    .bind(&owner.root)
    .bind(&owner.id)
    .bind(name)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn aws_sdk_workdocs_shares_lists_and_reads_activities() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.wd_user(&app.account, "owner").await;
    let bob = app.wd_user(&app.account, "bob").await;
    let folder = folder(&app, &owner, "sdk").await;
    let admin = client(&app, &app.account);

    let out = admin
        .add_resource_permissions()
        .resource_id(&folder)
        .principals(
            SharePrincipal::builder()
                .id(&bob.id)
                .r#type(PrincipalType::User)
                .role(RoleType::Viewer)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("AddResourcePermissions");
    assert_eq!(out.share_results()[0].status().unwrap().as_str(), "SUCCESS");

    // Token mode through the SDK: the token user acts.
    let described = admin
        .describe_resource_permissions()
        .resource_id(&folder)
        .authentication_token(&bob.token)
        .send()
        .await
        .expect("DescribeResourcePermissions as the grantee");
    assert_eq!(described.principals().len(), 2);

    let shared = admin
        .get_resources()
        .user_id(&bob.id)
        .send()
        .await
        .expect("GetResources");
    let f = &shared.folders()[0];
    assert_eq!(f.id(), Some(folder.as_str()));
    assert!(f.created_timestamp().unwrap().secs() > 1_700_000_000);

    let activities = admin
        .describe_activities()
        .organization_id(&app.account.directory_id)
        .send()
        .await
        .expect("DescribeActivities");
    let first = &activities.user_activities()[0];
    assert_eq!(first.r#type().unwrap().as_str(), "FOLDER_SHARED");
    assert!(first.time_stamp().unwrap().secs() > 1_700_000_000);

    let err = client(&app, &app.account)
        .describe_resource_permissions()
        .resource_id(grantd::workdocs::ids::new_resource_id())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_unauthorized_resource_access_exception(), "{err:?}");
    assert!(err
        .message()
        .unwrap()
        .contains("is not allowed to execute [workdocs:DescribeResourcePermissions]"));
}
