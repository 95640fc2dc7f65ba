//! grantd: a self-hosted, multi-tenant permission service that speaks the AWS Lambda
//! layer-permission API and the Amazon WorkDocs sharing API, backed by PostgreSQL.

pub mod aws;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod layers;
pub mod metrics;
pub mod ops;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tenancy;
pub mod workdocs;
