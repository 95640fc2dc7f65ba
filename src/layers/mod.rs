//! Lambda layer versions and their permissions (aws-wire.md §4–§5).

use crate::aws::query::QueryParams;
use crate::aws::validation::Violations;
use crate::aws::{ApiError, Signed, Surface};
use actix_web::{web, HttpRequest, HttpResponse};

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

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/2018-10-31/layers", web::get().to(list_layers));
}

/// `GET /2018-10-31/layers`: ListLayers.
async fn list_layers(req: HttpRequest, signed: Signed) -> Result<HttpResponse, ApiError> {
    let query = QueryParams::parse(req.query_string());
    let mut v = Violations::new();
    v.optional_enum(
        "compatibleRuntime",
        query.get("CompatibleRuntime"),
        RUNTIMES,
    );
    v.optional_enum(
        "compatibleArchitecture",
        query.get("CompatibleArchitecture"),
        ARCHITECTURES,
    );
    v.finish(Surface::Lambda)?;
    let _ = signed.caller;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "Layers": [] })))
}
