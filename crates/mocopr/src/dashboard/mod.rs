//! `PerformanceDashboard`: the operations endpoints of a server, as an axum `Router` to serve
//! beside the MCP endpoint.
//!
//! | route | what |
//! |---|---|
//! | `GET /metrics` | every metric in the Prometheus text format |
//! | `GET /health` | readiness: each health check (e.g. the cache's Redis), `200` when all pass, `503` otherwise, as JSON |
//! | `GET /health/live` | liveness: `200` while the process serves |
//! | `GET /debug/pprof/profile?seconds=N&format=svg\|folded\|pprof` | a CPU profile of the next `N` seconds (default 30, at most 60 unless [`with_max_profile`](crate::dashboard::PerformanceDashboardBuilder::with_max_profile) says otherwise), as a flamegraph SVG, folded stacks, or pprof's protobuf (for `go tool pprof`) |
//! | `GET /dashboard` | a live page: throughput, latency percentiles and memory, updated every second |
//! | `GET /dashboard/stats.json` | what the page reads |
//!
//! Requests are refused (`403`) unless their `Host` and `Origin` name an allowed host (loopback
//! by default, as the MCP endpoint's) and they are not a browser's cross-site request
//! (`Sec-Fetch-Site: cross-site`): a web page the operator opens cannot start profiles or read
//! metrics, directly or by DNS rebinding. `Host` and `Origin` are the client's to choose, so on
//! a listener others can reach, serve the dashboard on its own (loopback) listener, or give it
//! a bearer token ([`with_bearer_token`](crate::dashboard::PerformanceDashboardBuilder::with_bearer_token)):
//! every route but the static page and `/health/live` then needs
//! `Authorization: Bearer <token>` (`401` otherwise; the page takes the token from its URL's
//! fragment, `/dashboard#token=…`, which browsers never send). One profile runs at a time (a
//! second gets `429`), at most [`with_max_profile`](crate::dashboard::PerformanceDashboardBuilder::with_max_profile).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::future::BoxFuture;
use mocopr_metrics::MetricsCollector;
use mocopr_profiling::{ProfileError, Profiler};
use serde_json::json;

/// The live page.
const PAGE: &str = include_str!("page.html");
/// Default CPU profile, and the longest one by default.
const DEFAULT_PROFILE: Duration = Duration::from_secs(30);
const DEFAULT_MAX_PROFILE: Duration = Duration::from_secs(60);

/// A readiness check: `Ok` when the dependency answers, else what is wrong.
pub type HealthCheck = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// How long `/health` waits for its checks, all together.
const HEALTH_DEADLINE: Duration = Duration::from_secs(2);

/// What the dashboard's routes serve from.
struct Settings {
    metrics: Option<MetricsCollector>,
    profiler: Option<Profiler>,
    checks: Vec<(String, HealthCheck)>,
    allowed_hosts: Option<Vec<String>>,
    /// The SHA-256 of the bearer token every data route needs, when there is one.
    token_digest: Option<[u8; 32]>,
    max_profile: Duration,
    started: std::time::Instant,
}

/// The operations endpoints, built: mount them beside the MCP endpoint with
/// [`with_dashboard`](DashboardExt::with_dashboard), or take the routes with
/// [`into_router`](PerformanceDashboard::into_router).
///
/// ```
/// use mocopr::prelude::*;
/// use mocopr::dashboard::{DashboardExt, PerformanceDashboard};
///
/// let metrics = MetricsCollector::builder().build().unwrap();
/// let server = McpServer::builder().tool("hello", || async { "Hello!" }).with_metrics(metrics.clone()).build().unwrap();
/// let dashboard = PerformanceDashboard::builder().with_metrics(metrics).build();
/// // `/mcp` and `/metrics`, `/health`, `/debug/pprof/profile`, `/dashboard` on one router:
/// let app: axum::Router = server.into_http(EndpointConfig::default()).with_dashboard(dashboard);
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct PerformanceDashboard {
    router: Router,
}

impl std::fmt::Debug for PerformanceDashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceDashboard").finish_non_exhaustive()
    }
}

/// Builds a [`PerformanceDashboard`].
pub struct PerformanceDashboardBuilder {
    settings: Settings,
}

impl std::fmt::Debug for PerformanceDashboardBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceDashboardBuilder")
            .field("metrics", &self.settings.metrics.is_some())
            .field("profiler", &self.settings.profiler.is_some())
            .field("checks", &self.settings.checks.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .finish()
    }
}

impl PerformanceDashboard {
    /// Starts building a dashboard: no metrics, no profiler, no health checks, loopback hosts.
    ///
    /// ```
    /// use mocopr::dashboard::PerformanceDashboard;
    /// use mocopr::metrics::MetricsCollector;
    ///
    /// let metrics = MetricsCollector::builder().build().unwrap();
    /// let dashboard = PerformanceDashboard::builder()
    ///     .with_metrics(metrics)
    ///     .with_health_check("database", || async { Ok(()) })
    ///     .build();
    /// // `/metrics`, `/health`, `/dashboard` beside your own routes.
    /// let app: axum::Router = axum::Router::new().merge(dashboard.into_router());
    /// # let _ = app;
    /// ```
    pub fn builder() -> PerformanceDashboardBuilder {
        PerformanceDashboardBuilder {
            settings: Settings {
                metrics: None,
                profiler: None,
                checks: Vec::new(),
                allowed_hosts: Some(mocopr_transport::http::LOOPBACK_HOSTS.iter().map(|h| (*h).to_owned()).collect()),
                token_digest: None,
                max_profile: DEFAULT_MAX_PROFILE,
                started: std::time::Instant::now(),
            },
        }
    }

    /// The routes, to merge into the application's router.
    pub fn into_router(self) -> Router {
        self.router
    }
}

impl PerformanceDashboardBuilder {
    /// Serves `/metrics` and the page's request charts from `metrics`.
    pub fn with_metrics(mut self, metrics: MetricsCollector) -> Self {
        self.settings.metrics = Some(metrics);
        self
    }

    /// Serves CPU profiles, and the page's heap chart (with memory profiling) from `profiler`.
    pub fn with_profiler(mut self, profiler: Profiler) -> Self {
        self.settings.profiler = Some(profiler);
        self
    }

    /// Sets the hosts requests may name in `Host` (default: loopback); `None` accepts any (only
    /// behind something that checks them). An `Origin`, when sent, must be a page on one of
    /// them (on a loopback host when any `Host` is accepted). Give the MCP endpoint's.
    pub fn with_allowed_hosts(mut self, hosts: Option<Vec<String>>) -> Self {
        self.settings.allowed_hosts = hosts;
        self
    }

    /// Requires `Authorization: Bearer <token>` on every route but the static page and
    /// `/health/live` (default: none; use one whenever the dashboard is reachable from beyond
    /// this host, e.g. mounted beside a public `/mcp`).
    ///
    /// ```
    /// use mocopr::dashboard::PerformanceDashboard;
    ///
    /// let token = std::env::var("ADMIN_TOKEN").unwrap_or_else(|_| "a long random secret".into());
    /// let dashboard = PerformanceDashboard::builder().with_bearer_token(token).build();
    /// # let _ = dashboard;
    /// ```
    pub fn with_bearer_token(mut self, token: impl AsRef<[u8]>) -> Self {
        use sha2::Digest;
        let token = String::from_utf8_lossy(token.as_ref()).trim().to_owned();
        self.settings.token_digest = Some(sha2::Sha256::digest(token.as_bytes()).into());
        self
    }

    /// Sets the longest CPU profile `/debug/pprof/profile` takes (default 60 s; longer requests
    /// get `400`).
    pub fn with_max_profile(mut self, longest: Duration) -> Self {
        self.settings.max_profile = longest.max(Duration::from_secs(1));
        self
    }

    /// Adds a readiness check named `name` to `/health` (checks run together, and a check that
    /// has not answered within two seconds has failed).
    pub fn with_health_check<F, Fut>(mut self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.settings.checks.push((name.into(), Arc::new(move || Box::pin(check()))));
        self
    }

    /// The dashboard.
    pub fn build(self) -> PerformanceDashboard {
        let allowed = Arc::new(self.settings.allowed_hosts.clone());
        let token_digest = self.settings.token_digest;
        let state = Arc::new(self.settings);
        let router = Router::new()
            .route("/metrics", get(metrics))
            .route("/health", get(health))
            .route("/health/live", get(|| async { "ok" }))
            .route("/debug/pprof/profile", get(profile))
            .route("/dashboard", get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }))
            .route("/dashboard/stats.json", get(stats))
            .with_state(state)
            .layer(axum::middleware::from_fn(move |request: axum::extract::Request, next: axum::middleware::Next| {
                let allowed = allowed.clone();
                async move {
                    let headers = request.headers();
                    let cross_site = headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
                    if cross_site
                        || mocopr_transport::http::check_host_and_origin(
                            headers,
                            allowed.as_deref(),
                            &mocopr_transport::http::AllowedOrigins::AllowedHosts,
                        )
                        .is_err()
                    {
                        return (StatusCode::FORBIDDEN, "Host, Origin or site not allowed").into_response();
                    }
                    let open = matches!(request.uri().path(), "/dashboard" | "/health/live");
                    if let Some(expected) = token_digest.filter(|_| !open) {
                        use sha2::Digest;
                        // Digests of the same length are compared: the time taken says nothing
                        // about the token.
                        let offered = headers
                            .get(header::AUTHORIZATION)
                            .and_then(|v| v.to_str().ok())
                            // The scheme is case-insensitive (RFC 7235).
                            .and_then(|v| v.split_once(' ').filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")))
                            .map(|(_, token)| token)
                            .map(|t| <[u8; 32]>::from(sha2::Sha256::digest(t.trim().as_bytes())));
                        if offered != Some(expected) {
                            let challenge = (header::WWW_AUTHENTICATE, "Bearer");
                            return (StatusCode::UNAUTHORIZED, [challenge], "a bearer token is required")
                                .into_response();
                        }
                    }
                    next.run(request).await
                }
            }));
        PerformanceDashboard { router }
    }
}

/// Mounts a dashboard beside the MCP endpoint: `server.into_http(config).with_dashboard(d)` is
/// an axum `Router` serving the endpoint at `/mcp` and the dashboard's routes; on a `Router`,
/// it adds the dashboard's routes.
pub trait DashboardExt {
    /// The router with the dashboard's routes.
    fn with_dashboard(self, dashboard: PerformanceDashboard) -> Router;
}

impl<S> DashboardExt for mocopr_transport::http::StreamableHttpService<S>
where
    S: tower_service::Service<
            mocopr_core::service::McpRequest,
            Response = mocopr_core::service::McpResponse,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    fn with_dashboard(self, dashboard: PerformanceDashboard) -> Router {
        Router::new().route_service("/mcp", self).merge(dashboard.router)
    }
}

impl DashboardExt for Router {
    fn with_dashboard(self, dashboard: PerformanceDashboard) -> Router {
        self.merge(dashboard.router)
    }
}

type Shared = State<Arc<Settings>>;

async fn metrics(State(dashboard): Shared) -> Response {
    match &dashboard.metrics {
        Some(metrics) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics.encode()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "metrics are not collected").into_response(),
    }
}

async fn health(State(dashboard): Shared) -> Response {
    // All at once, under one deadline: a check that hangs is a failed check.
    let outcomes = futures_util::future::join_all(dashboard.checks.iter().map(|(name, check)| async move {
        let outcome = tokio::time::timeout(HEALTH_DEADLINE, check()).await.unwrap_or_else(|_| Err("timed out".into()));
        (name.clone(), outcome)
    }))
    .await;
    let ready = outcomes.iter().all(|(_, outcome)| outcome.is_ok());
    let checks: BTreeMap<String, serde_json::Value> = outcomes
        .into_iter()
        .map(|(name, outcome)| match outcome {
            Ok(()) => (name, json!({"ok": true})),
            Err(error) => (name, json!({"ok": false, "error": error})),
        })
        .collect();
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({"status": if ready { "ok" } else { "unavailable" }, "live": true, "checks": checks});
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

#[derive(serde::Deserialize)]
struct ProfileQuery {
    seconds: Option<u64>,
    format: Option<String>,
}

async fn profile(State(dashboard): Shared, Query(query): Query<ProfileQuery>) -> Response {
    let Some(profiler) = &dashboard.profiler else {
        return (StatusCode::NOT_FOUND, "no profiler").into_response();
    };
    let longest = dashboard.max_profile.as_secs();
    let seconds = match query.seconds {
        Some(s) if s == 0 || s > longest => {
            return (StatusCode::BAD_REQUEST, format!("seconds must be 1 to {longest}")).into_response();
        }
        Some(s) => Duration::from_secs(s),
        None => DEFAULT_PROFILE.min(dashboard.max_profile),
    };
    let format = match query.format.as_deref() {
        None | Some("svg") => "svg",
        Some(format @ ("folded" | "pprof")) => format,
        Some(other) => {
            return (StatusCode::BAD_REQUEST, format!("unknown format {other:?}: svg, folded or pprof"))
                .into_response();
        }
    };
    let profile = match profiler.cpu_profile(seconds).await {
        Ok(profile) => profile,
        Err(error @ ProfileError::CpuProfilingOff) => {
            return (StatusCode::NOT_FOUND, error.to_string()).into_response();
        }
        Err(error @ ProfileError::Busy) => return (StatusCode::TOO_MANY_REQUESTS, error.to_string()).into_response(),
        Err(error) => return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
    };
    match format {
        "folded" => return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], profile.folded()).into_response(),
        "pprof" => {
            let disposition = (header::CONTENT_DISPOSITION, "attachment; filename=\"profile.pb\"");
            return ([(header::CONTENT_TYPE, "application/octet-stream"), disposition], profile.pprof())
                .into_response();
        }
        _ => {}
    }
    // Drawing a long profile takes a while: off the async threads.
    match tokio::task::spawn_blocking(move || profile.flamegraph_svg("CPU")).await {
        Ok(Ok(svg)) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Ok(Err(error)) => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}

async fn stats(State(dashboard): Shared) -> Response {
    let snapshot = dashboard.metrics.as_ref().map(MetricsCollector::snapshot).unwrap_or_default();
    let buckets: Vec<_> = snapshot
        .duration_buckets
        .iter()
        // JSON has no infinity: the last bound is `null`.
        .map(|(bound, count)| json!([bound.is_finite().then_some(*bound), count]))
        .collect();
    let heap = dashboard.profiler.as_ref().and_then(Profiler::memory).filter(|m| m.allocations > 0);
    let body = json!({
        "time_ms": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
        // Monotonic, for rates: wall-clock time may be adjusted.
        "uptime_ms": dashboard.started.elapsed().as_millis() as u64,
        "requests": snapshot.requests,
        "errors": snapshot.errors,
        "in_flight": snapshot.in_flight,
        "connections": snapshot.connections,
        "sessions": snapshot.sessions,
        "duration_buckets": buckets,
        "rss_bytes": resident_bytes(),
        "heap_live_bytes": heap.map(|m| m.live_bytes),
    });
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body.to_string())
        .into_response()
}

/// This process's resident memory (`VmRSS`), where `/proc` says.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}
