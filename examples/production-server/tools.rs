//! The production server's tools and resources: cheap ones (`echo`, `add`), one that waits on a
//! slow backend (`weather`, 5 ms, read-only and idempotent so the cache may answer it), one that
//! does a little work (`search`), and two resources.

use std::time::Duration;

use mocopr::core::types::{CacheScope, Resource, ResourceContents, Tool, ToolAnnotations};
use mocopr::prelude::*;
use mocopr::server::McpServerBuilder;
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

#[derive(Deserialize)]
struct EchoArgs {
    text: String,
}

#[derive(Deserialize)]
struct AddArgs {
    a: f64,
    b: f64,
}

#[derive(Serialize)]
struct Sum {
    sum: f64,
}

#[derive(Deserialize)]
struct WeatherArgs {
    city: String,
}

#[derive(Serialize)]
struct Weather {
    city: String,
    celsius: f64,
}

#[derive(Deserialize)]
struct SearchArgs {
    query: String,
    #[serde(default)]
    limit: Option<usize>,
}

fn schema(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn tool(name: &str, description: &str, input: serde_json::Value) -> Tool {
    let mut tool = Tool::new(name, schema(input));
    tool.description = Some(description.into());
    tool
}

async fn weather(Args(args): Args<WeatherArgs>) -> Result<Structured<Weather>, ToolError> {
    // The backend: a network round trip we wait on.
    tokio::time::sleep(BACKEND_LATENCY).await;
    let (name, _, celsius) = CITIES
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(&args.city))
        .ok_or_else(|| ToolError::invalid_params(format!("unknown city {:?}", args.city)))?;
    Ok(Structured(Weather { city: (*name).to_owned(), celsius: *celsius }))
}

async fn search(Args(args): Args<SearchArgs>) -> Result<String, ToolError> {
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

/// Adds the tools and resources to `builder`.
pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let mut weather_tool = tool(
        "weather",
        "Current temperature of a city, from a slow backend.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    let mut hints = ToolAnnotations::default();
    hints.read_only_hint = Some(true);
    hints.idempotent_hint = Some(true);
    weather_tool.annotations = Some(hints);
    let report = report();
    builder
        // Reads say how long they stay fresh, so clients and the cache may keep them.
        .read_cache_hints(60_000, CacheScope::Public)
        .tool(
            tool(
                "echo",
                "Returns its input text.",
                json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
            ),
            |Args(args): Args<EchoArgs>| async move { Ok::<_, ToolError>(args.text) },
        )
        .tool(
            tool(
                "add",
                "Adds two numbers.",
                json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}),
            ),
            |Args(args): Args<AddArgs>| async move { Ok::<_, ToolError>(Structured(Sum { sum: args.a + args.b })) },
        )
        .tool(weather_tool, weather)
        .tool(
            tool(
                "search",
                "Cities whose name contains the query, or in the country with that code.",
                json!({"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}}, "required": ["query"]}),
            ),
            search,
        )
        .resource(Resource::new("data://cities", "cities"), |req, _ctx| async move {
            let cities: Vec<_> =
                CITIES.iter().map(|(name, country, _)| json!({"name": name, "country": country})).collect();
            Ok(vec![ResourceContents::text(req.uri, serde_json::to_string(&cities)?)])
        })
        .resource(Resource::new("data://report", "report"), move |req, _ctx| {
            let report = report.clone();
            async move { Ok(vec![ResourceContents::text(req.uri, report)]) }
        })
}
