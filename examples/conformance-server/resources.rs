//! Resources: static text and binary, the watched resource (subscribe target), the two
//! resources the content tools embed, and the template `test://template/{id}/data`.
//!
//! `resources/list` is sorted by URI, so `test://embedded-resource` comes first; the `caching`
//! scenario reads the first listed resource, and every listed one is readable.

use std::future::{Ready, ready};

use mocopr_core::types::{Resource, ResourceContents, ResourceTemplate};
use mocopr_server::{McpServerBuilder, RequestCtx, ResourceRequest, ToolError};
use serde_json::{Value, json};

use crate::media;

/// A listed resource: URI, name, title, description and MIME type.
fn resource(uri: &str, name: &str, title: &str, description: &str, mime_type: &str) -> Resource {
    let mut resource = Resource::new(uri, name);
    resource.title = Some(title.to_owned());
    resource.description = Some(description.to_owned());
    resource.mime_type = Some(mime_type.to_owned());
    resource
}

fn contents(value: Value) -> Result<Vec<ResourceContents>, ToolError> {
    Ok(vec![serde_json::from_value(value)?])
}

/// The handler of a resource whose contents never change.
fn text(
    uri: &'static str,
    mime_type: &'static str,
    text: String,
) -> impl Fn(ResourceRequest, RequestCtx) -> Ready<Result<Vec<ResourceContents>, ToolError>> + Send + Sync + 'static {
    move |_request, _ctx| ready(contents(json!({ "uri": uri, "mimeType": mime_type, "text": text })))
}

pub(crate) fn register(builder: McpServerBuilder) -> Result<McpServerBuilder, serde_json::Error> {
    let template: ResourceTemplate = serde_json::from_value(json!({
        "uriTemplate": "test://template/{id}/data",
        "name": "template",
        "title": "Resource Template",
        "description": "A resource template with parameter substitution",
        "mimeType": "application/json"
    }))?;
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
            |_request, _ctx| async {
                contents(json!({ "uri": "test://static-binary", "mimeType": "image/png", "blob": media::png_base64() }))
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
    Ok(builder.resource_template(template, templated))
}

async fn templated(request: ResourceRequest, _ctx: RequestCtx) -> Result<Vec<ResourceContents>, ToolError> {
    let id = request.variables.get("id").cloned().unwrap_or_default();
    let data = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
    contents(json!({ "uri": request.uri, "mimeType": "application/json", "text": data.to_string() }))
}
