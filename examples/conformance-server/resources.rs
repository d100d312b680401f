//! Resources: static text and binary, the watched resource (subscribe target), the two
//! resources the content tools embed, and the template `test://template/{id}/data`.
//!
//! `resources/list` is sorted by URI, so `test://embedded-resource` comes first; the `caching`
//! scenario reads the first listed resource, and every listed one is readable.

use std::future::{Ready, ready};

use mocopr_core::types::{Resource, ResourceContents, ResourceTemplate};
use mocopr_server::{Args, McpServerBuilder, ResourceUri};
use serde_json::json;

use crate::media;

/// A listed resource: URI, name, title, description and MIME type.
fn resource(uri: &str, name: &str, title: &str, description: &str, mime_type: &str) -> Resource {
    Resource::new(uri, name).with_title(title).with_description(description).with_mime_type(mime_type)
}

/// The handler of a resource whose contents never change.
fn text(
    uri: &'static str,
    mime_type: &'static str,
    text: String,
) -> impl Fn() -> Ready<ResourceContents> + Clone + Send + Sync + 'static {
    move || ready(ResourceContents::text(uri, text.clone()).with_mime_type(mime_type))
}

pub(crate) fn register(builder: McpServerBuilder) -> McpServerBuilder {
    let template = ResourceTemplate::new("test://template/{id}/data", "template")
        .with_title("Resource Template")
        .with_description("A resource template with parameter substitution")
        .with_mime_type("application/json");
    let builder = builder
        .resource(
            resource(
                "test://static-text",
                "static-text",
                "Static Text Resource",
                "A static text resource for testing",
                "text/plain",
            ),
            text("test://static-text", "text/plain", "This is the content of the static text resource.".to_owned()),
        )
        .resource(
            resource(
                "test://static-binary",
                "static-binary",
                "Static Binary Resource",
                "A static binary resource (a 1x1 PNG) for testing",
                "image/png",
            ),
            || async {
                ResourceContents::blob("test://static-binary", media::png_red_pixel()).with_mime_type("image/png")
            },
        )
        .resource(
            resource(
                "test://watched-resource",
                "watched-resource",
                "Watched Resource",
                "A resource to subscribe to",
                "text/plain",
            ),
            text("test://watched-resource", "text/plain", "Watched resource content".to_owned()),
        )
        .resource(
            resource(
                "test://embedded-resource",
                "embedded-resource",
                "Embedded Resource",
                "The resource test_embedded_resource embeds",
                "text/plain",
            ),
            text("test://embedded-resource", "text/plain", "This is an embedded resource content.".to_owned()),
        )
        .resource(
            resource(
                "test://mixed-content-resource",
                "mixed-content-resource",
                "Mixed Content Resource",
                "The resource test_multiple_content_types embeds",
                "application/json",
            ),
            text(
                "test://mixed-content-resource",
                "application/json",
                json!({ "test": "data", "value": 123 }).to_string(),
            ),
        );
    builder.resource(template, templated)
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct TemplateVars {
    id: String,
}

async fn templated(ResourceUri(uri): ResourceUri, Args(vars): Args<TemplateVars>) -> ResourceContents {
    let id = vars.id;
    let data = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
    ResourceContents::text(uri, data.to_string()).with_mime_type("application/json")
}
