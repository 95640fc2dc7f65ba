//! The whole layer lifecycle through aws-sdk-rust, errors read as typed errors.

use crate::helpers::spawn_app;
use crate::layers::EMPTY_ZIP;
use aws_sdk_lambda::error::ProvideErrorMetadata as _;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};

#[tokio::test]
async fn aws_sdk_rust_drives_the_whole_layer_lifecycle() {
    let app = spawn_app().await;
    let owner = app.lambda(&app.account);
    let other_account = app.create_account(None).await;
    let other = app.lambda(&other_account);

    for _ in 0..3 {
        let out = owner
            .publish_layer_version()
            .layer_name("sdk-layer")
            .content(
                LayerVersionContentInput::builder()
                    .zip_file(Blob::new(EMPTY_ZIP))
                    .build(),
            )
            .compatible_runtimes(Runtime::Python312)
            .compatible_architectures(Architecture::Arm64)
            .send()
            .await
            .expect("publish");
        assert!(out.content().unwrap().code_sha256().is_some());
    }
    let versions: Vec<i64> = owner
        .list_layer_versions()
        .layer_name("sdk-layer")
        .max_items(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("paginate")
        .iter()
        .map(|v| v.version())
        .collect();
    assert_eq!(versions, [3, 2, 1]);

    let added = owner
        .add_layer_version_permission()
        .layer_name("sdk-layer")
        .version_number(3)
        .statement_id("xaccount")
        .action("lambda:GetLayerVersion")
        .principal(&other_account.account_id)
        .send()
        .await
        .expect("add permission");
    let revision = added.revision_id().unwrap().to_owned();
    let arn = format!(
        "arn:aws:lambda:us-east-1:{}:layer:sdk-layer",
        app.account.account_id
    );
    let got = other
        .get_layer_version()
        .layer_name(&arn)
        .version_number(3)
        .send()
        .await
        .expect("the grantee gets the version");
    assert_eq!(got.version(), 3);
    assert_eq!(got.compatible_architectures(), [Architecture::Arm64]);
    other
        .get_layer_version_by_arn()
        .arn(format!("{arn}:3"))
        .send()
        .await
        .expect("and by ARN");

    // Typed errors: a stale revision, a duplicate, a missing policy, a foreign version.
    let err = owner
        .add_layer_version_permission()
        .layer_name("sdk-layer")
        .version_number(3)
        .statement_id("xaccount")
        .action("lambda:GetLayerVersion")
        .principal("*")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_conflict_exception(), "{err:?}");
    let err = owner
        .remove_layer_version_permission()
        .layer_name("sdk-layer")
        .version_number(3)
        .statement_id("xaccount")
        .revision_id("00000000-0000-0000-0000-000000000000")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_precondition_failed_exception(), "{err:?}");
    assert!(err
        .message()
        .unwrap()
        .starts_with("The Revision Id provided does not match"));
    let err = owner
        .get_layer_version_policy()
        .layer_name("sdk-layer")
        .version_number(1)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("No policy is associated with the given resource.")
    );
    let err = other
        .get_layer_version()
        .layer_name(&arn)
        .version_number(2)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDeniedException"));

    owner
        .remove_layer_version_permission()
        .layer_name("sdk-layer")
        .version_number(3)
        .statement_id("xaccount")
        .revision_id(revision)
        .send()
        .await
        .expect("remove with the current revision");
    let err = other
        .get_layer_version()
        .layer_name(&arn)
        .version_number(3)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("AccessDeniedException"));

    owner
        .delete_layer_version()
        .layer_name("sdk-layer")
        .version_number(3)
        .send()
        .await
        .expect("delete");
    let err = owner
        .get_layer_version()
        .layer_name("sdk-layer")
        .version_number(3)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let layers = owner.list_layers().send().await.expect("list layers");
    assert_eq!(
        layers.layers()[0]
            .latest_matching_version()
            .unwrap()
            .version(),
        2
    );
}
