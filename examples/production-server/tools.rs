//! The production server's tools and resources: cheap ones (`echo`, `add`), one that waits on a
//! slow backend (`weather`, 5 ms, read-only and idempotent so the cache may answer it), one that
//! does a little work (`search`), and two resources.

use std::time::Duration;

use mocopr::core::types::CacheScope;
use mocopr::prelude::*;
use mocopr::server::McpServerBuilder;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// How long the simulated weather backend takes to answer.
const BACKEND_LATENCY: Duration = Duration::from_millis(5);

const CITIES: &[(&str, &str, f64)] = &[
    ("Oslo", "NO", 4.5),
    ("Lima", "PE", 19.2),
    ("Nairobi", "KE", 17.8),
    ("Osaka", "JP", 16.9),
    ("Quito", "EC", 13.9),
    ("Perth", "AU", 18.6),
    ("Porto", "PT", 15.1),
    ("Tallinn", "EE", 5.8),
    ("Montreal", "CA", 6.9),
    ("Cusco", "PE", 12.4),
];

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// The text to return.
    text: String,
}

#[derive(Deserialize, JsonSchema)]
struct AddArgs {
    a: f64,
    b: f64,
}

#[derive(Serialize, JsonSchema)]
struct Sum {
    sum: f64,
}

#[derive(Deserialize, JsonSchema)]
struct WeatherArgs {
    /// A city name, e.g. Oslo.
    city: String,
}

#[derive(Serialize, JsonSchema)]
struct Weather {
    city: String,
    celsius: f64,
}

#[derive(Deserialize, JsonSchema)]
struct SearchArgs {
    /// Part of a city name, or a country code.
    query: String,
    /// The most cities to return (default 10, at most 100).
    #[serde(default)]
    #[schemars(range(min = 1))]
    limit: Option<usize>,
}

async fn weather(Args(args): Args<WeatherArgs>) -> Result<Structured<Weather>, HandlerError> {
    // The backend: a network round trip we wait on.
    tokio::time::sleep(BACKEND_LATENCY).await;
    let (name, _, celsius) = CITIES
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(&args.city))
        .ok_or_else(|| HandlerError::invalid_params(format!("unknown city {:?}", args.city)))?;
    Ok(Structured(Weather { city: (*name).to_owned(), celsius: *celsius }))
}

async fn search(Args(args): Args<SearchArgs>) -> Result<String, HandlerError> {
    let query = args.query.to_lowercase();
    let hits: Vec<&str> = CITIES
        .iter()
        .filter(|(name, country, _)| name.to_lowercase().contains(&query) || country.eq_ignore_ascii_case(&query))
        .map(|(name, _, _)| *name)
        .take(args.limit.unwrap_or(10).min(100))
        .collect();
    Ok(hits.join(", "))
}

fn report() -> String {
    let mut text = String::from("city,country,celsius\n");
    while text.len() < 4096 {
        for (name, country, celsius) in CITIES {
            text.push_str(&format!("{name},{country},{celsius}\n"));
        }
    }
    text
}

async fn cities() -> Result<String, HandlerError> {
    let cities: Vec<_> = CITIES.iter().map(|(name, country, _)| json!({"name": name, "country": country})).collect();
    Ok(serde_json::to_string(&cities)?)
}

/// Adds the tools and resources to `builder`.
pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let weather_tool = Tool::new("weather")
        .with_description("Current temperature of a city, from a slow backend.")
        .with_annotations(ToolAnnotations::new().with_read_only_hint(true).with_idempotent_hint(true));
    let report = report();
    builder
        // Reads say how long they stay fresh, so clients and the cache may keep them.
        .with_read_cache_hints(60_000, CacheScope::Public)
        .tool(Tool::new("echo").with_description("Returns its input text."), |Args(args): Args<EchoArgs>| async move {
            args.text
        })
        .tool(Tool::new("add").with_description("Adds two numbers."), |Args(args): Args<AddArgs>| async move {
            Structured(Sum { sum: args.a + args.b })
        })
        .tool(weather_tool, weather)
        .tool(
            Tool::new("search")
                .with_description("Cities whose name contains the query, or in the country with that code."),
            search,
        )
        .resource(Resource::new("data://cities", "cities").with_mime_type("application/json"), cities)
        .resource(Resource::new("data://report", "report").with_mime_type("text/csv"), move || {
            let report = report.clone();
            async move { report }
        })
}
