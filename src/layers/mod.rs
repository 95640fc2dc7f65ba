//! Lambda layer versions and their permissions (aws-wire.md §4–§5): a vertical slice from
//! HTTP shapes (`model`, `handlers`) through the rules (`arn`, `policy`) to SQL (`store`).

mod arn;
mod content;
mod handlers;
mod model;
mod policy;
mod store;

use actix_web::web;

pub const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];

/// Every runtime the model knows; the list filters accept these.
pub const RUNTIMES: &[&str] = &[
    "nodejs",
    "nodejs4.3",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "java8.al2",
    "java11",
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    "python3.9",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet6",
    "dotnet8",
    "nodejs4.3-edge",
    "go1.x",
    "ruby2.5",
    "ruby2.7",
    "provided",
    "provided.al2",
    "nodejs18.x",
    "python3.10",
    "java17",
    "ruby3.2",
    "ruby3.3",
    "ruby3.4",
    "python3.11",
    "nodejs20.x",
    "provided.al2023",
    "python3.12",
    "java21",
    "python3.13",
    "nodejs22.x",
    "nodejs24.x",
    "python3.14",
    "java25",
    "dotnet10",
    "ruby4.0",
];

/// The runtimes PublishLayerVersion accepts, in the order AWS lists them in its message.
pub const PUBLISH_RUNTIMES: &[&str] = &[
    "nodejs20.x",
    "python3.14",
    "provided.al2023",
    "python3.12",
    "python3.13",
    "nodejs24.x",
    "nodejs22.x",
    "java25",
    "python3.10",
    "python3.11",
    "java21",
    "ruby3.3",
    "ruby3.4",
    "ruby3.2",
    "python3.8",
    "python3.9",
    "java17",
    "nodejs16.x",
    "dotnet10",
    "dotnet8",
    "java11",
    "dotnet6",
    "nodejs18.x",
    "provided.al2",
    "java8.al2",
];

/// The Lambda routes, under one `/2018-10-31` scope (see `workdocs::routes`); the layer
/// content route stays outside it.
pub fn routes(cfg: &mut web::ServiceConfig) {
    use handlers::*;
    const VERSION: &str = "/layers/{LayerName}/versions/{VersionNumber}";
    cfg.service(
        web::scope("/2018-10-31")
            .route("/layers", web::get().to(list_layers_or_find))
            .service(
                crate::startup::resource("/layers/{LayerName}/versions")
                    .route(web::get().to(list_versions))
                    .route(web::post().to(publish)),
            )
            .service(
                crate::startup::resource(VERSION)
                    .route(web::get().to(get_version))
                    .route(web::delete().to(delete_version)),
            )
            .service(
                crate::startup::resource(&format!("{VERSION}/policy"))
                    .route(web::get().to(get_policy))
                    .route(web::post().to(add_permission)),
            )
            .route(
                &format!("{VERSION}/policy/{{StatementId}}"),
                web::delete().to(remove_permission),
            ),
    )
    .route(content::ROUTE, web::get().to(content::download));
}
