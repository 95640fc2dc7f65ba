//! Building and running the HTTP application on a bound listener (port 0 in tests).

use crate::aws::envelope::envelope;
use crate::aws::{ApiError, ErrorCode, Surface};
use crate::config::ServeSettings;
use crate::state::AppState;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpServer};
use std::net::TcpListener;

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Serves both wire surfaces and the operational endpoints on `listener`. Signals are
    /// the caller's business: stop through [`Application::handle`].
    pub fn build(
        listener: TcpListener,
        state: AppState,
        settings: &ServeSettings,
    ) -> std::io::Result<Application> {
        let port = listener.local_addr()?.port();
        let state = web::Data::new(state);
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PathConfig::default().error_handler(|_, req| {
                    ApiError::new(
                        Surface::of(req),
                        ErrorCode::UnknownOperation,
                        "The requested path is not a known operation.",
                    )
                    .into()
                }))
                .wrap(from_fn(envelope))
                .configure(crate::ops::routes)
                .configure(crate::layers::routes)
                .configure(crate::workdocs::routes)
                .default_service(web::to(unknown_operation))
        })
        .disable_signals()
        .shutdown_timeout(30)
        .listen(listener)?;
        server = server.workers(workers(settings));
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Runs until stopped; a graceful stop lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// HTTP worker threads: as configured, else one per core (actix-web's own default).
pub fn workers(settings: &ServeSettings) -> usize {
    settings
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
}

/// A resource whose unserved methods answer like an unknown route, not with an empty 405.
pub(crate) fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(unknown_operation))
}

/// Unknown routes, and known paths with a method they do not serve (aws-wire.md §9).
pub(crate) async fn unknown_operation(
    req: HttpRequest,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        Surface::of(&req),
        ErrorCode::UnknownOperation,
        "The requested path and method are not a known operation.",
    ))
}
