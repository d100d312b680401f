//! Elicitation (`elicitation/create`): the server asks the user for input, through a form
//! (`requestedSchema`) or by sending them to a URL (2025-11-25 and later).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tasks::TaskMetadata;
use super::tools::JsonObject;
use crate::meta::Meta;

/// The `"form"` mode tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FormMode {
    /// `form`
    #[serde(rename = "form")]
    Form,
}

/// The `"url"` mode tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum UrlMode {
    /// `url`
    #[serde(rename = "url")]
    Url,
}

/// Params of `elicitation/create`: a form or a URL. A missing `mode` means form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ElicitRequestParams {
    /// URL mode (tried first: it is the one with a mandatory tag).
    Url(ElicitUrlParams),
    /// Form mode.
    Form(ElicitFormParams),
}

impl ElicitRequestParams {
    /// A form asking the user for the fields of `schema`.
    ///
    /// ```
    /// use mocopr_core::types::{ElicitRequestParams, PrimitiveSchema, RequestedSchema};
    ///
    /// let schema = RequestedSchema::new()
    ///     .required_property("name", PrimitiveSchema::string().with_description("Your name"))
    ///     .property("subscribe", PrimitiveSchema::boolean());
    /// let params = ElicitRequestParams::form("Who are you?", schema);
    /// # let _ = params;
    /// ```
    pub fn form(message: impl Into<String>, schema: RequestedSchema) -> Self {
        ElicitRequestParams::Form(ElicitFormParams {
            mode: None,
            message: message.into(),
            requested_schema: schema,
            task: None,
            meta: None,
        })
    }

    /// A request that the user open `url` (2025-11-25 and later).
    pub fn url(message: impl Into<String>, url: impl Into<String>) -> Self {
        ElicitRequestParams::Url(ElicitUrlParams {
            mode: UrlMode::Url,
            message: message.into(),
            url: url.into(),
            elicitation_id: None,
            task: None,
            meta: None,
        })
    }
}

/// Form-mode elicitation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitFormParams {
    /// `"form"`, or absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<FormMode>,
    /// What to ask the user.
    pub message: String,
    /// A flat object schema of primitive fields.
    pub requested_schema: RequestedSchema,
    /// Run as a task (2025-11-25 experimental tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// URL-mode elicitation (2025-11-25 and later).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitUrlParams {
    /// `"url"`.
    pub mode: UrlMode,
    /// Why the user should open the URL.
    pub message: String,
    /// The URL.
    pub url: String,
    /// Correlation id (2025-11-25 only, where it is required; removed in 2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// Run as a task (2025-11-25 experimental tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskMetadata>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// The `"object"` type tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ObjectType {
    /// `object`
    #[serde(rename = "object")]
    Object,
}

/// The schema of an elicitation form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestedSchema {
    /// Dialect, when not the default.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// `"object"`.
    #[serde(rename = "type")]
    pub kind: ObjectType,
    /// The fields.
    pub properties: BTreeMap<String, PrimitiveSchema>,
    /// Required field names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
}

impl RequestedSchema {
    /// A form with no fields yet.
    pub fn new() -> Self {
        RequestedSchema { schema: None, kind: ObjectType::Object, properties: BTreeMap::new(), required: None }
    }

    /// Adds an optional field.
    pub fn property(mut self, name: impl Into<String>, schema: PrimitiveSchema) -> Self {
        self.properties.insert(name.into(), schema);
        self
    }

    /// Adds a field the user must fill in.
    pub fn required_property(mut self, name: impl Into<String>, schema: PrimitiveSchema) -> Self {
        let name = name.into();
        self.required.get_or_insert_with(Vec::new).push(name.clone());
        self.property(name, schema)
    }
}

impl Default for RequestedSchema {
    fn default() -> Self {
        RequestedSchema::new()
    }
}

impl PrimitiveSchema {
    /// A free-text field.
    pub fn string() -> Self {
        PrimitiveSchema::String(StringSchema {
            kind: StringType::String,
            title: None,
            description: None,
            min_length: None,
            max_length: None,
            format: None,
            default: None,
        })
    }

    /// A number field.
    pub fn number() -> Self {
        PrimitiveSchema::Number(NumberSchema {
            kind: NumberType::Number,
            title: None,
            description: None,
            minimum: None,
            maximum: None,
            default: None,
        })
    }

    /// An integer field.
    pub fn integer() -> Self {
        match PrimitiveSchema::number() {
            PrimitiveSchema::Number(n) => PrimitiveSchema::Number(NumberSchema { kind: NumberType::Integer, ..n }),
            other => other,
        }
    }

    /// A yes/no field.
    pub fn boolean() -> Self {
        PrimitiveSchema::Boolean(BooleanSchema {
            kind: BooleanType::Boolean,
            title: None,
            description: None,
            default: None,
        })
    }

    /// Sets the help text.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        let slot = match &mut self {
            PrimitiveSchema::SingleSelect(s) => &mut s.description,
            PrimitiveSchema::TitledSingleSelect(s) => &mut s.description,
            PrimitiveSchema::MultiSelect(s) => &mut s.description,
            PrimitiveSchema::String(s) => &mut s.description,
            PrimitiveSchema::Number(s) => &mut s.description,
            PrimitiveSchema::Boolean(s) => &mut s.description,
        };
        *slot = Some(description.into());
        self
    }
}

/// `type` of a string-valued schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum StringType {
    /// `string`
    #[serde(rename = "string")]
    String,
}

/// `type` of a multi-select schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ArrayType {
    /// `array`
    #[serde(rename = "array")]
    Array,
}

/// `type` of a boolean schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BooleanType {
    /// `boolean`
    #[serde(rename = "boolean")]
    Boolean,
}

/// `type` of a numeric schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NumberType {
    /// `number`
    Number,
    /// `integer`
    Integer,
}

/// String formats a form field may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StringFormat {
    /// `email`
    Email,
    /// `uri`
    Uri,
    /// `date`
    Date,
    /// `date-time`
    DateTime,
}

/// A form field: one of the primitive schemas the protocol allows.
///
/// Variants that need a distinguishing member (`enum`, `oneOf`, `items`) come first, since a
/// plain string schema would otherwise match any of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum PrimitiveSchema {
    /// Single choice from plain values (with legacy `enumNames` titles).
    SingleSelect(UntitledSingleSelectEnumSchema),
    /// Single choice from titled values.
    TitledSingleSelect(TitledSingleSelectEnumSchema),
    /// Multiple choices (plain or titled).
    MultiSelect(MultiSelectEnumSchema),
    /// Free text.
    String(StringSchema),
    /// A number or an integer.
    Number(NumberSchema),
    /// A boolean.
    Boolean(BooleanSchema),
}

/// A free-text field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StringSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Format.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<StringFormat>,
    /// Default value (2025-11-25 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A numeric field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NumberSchema {
    /// `"number"` or `"integer"`.
    #[serde(rename = "type")]
    pub kind: NumberType,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<serde_json::Number>,
    /// Maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<serde_json::Number>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Number>,
}

/// A boolean field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BooleanSchema {
    /// `"boolean"`.
    #[serde(rename = "type")]
    pub kind: BooleanType,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<bool>,
}

/// Single choice from plain values; `enumNames` is the legacy way to title them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UntitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The values.
    #[serde(rename = "enum")]
    pub values: Vec<String>,
    /// Legacy display names, parallel to `enum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A value with a display title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TitledValue {
    /// The value.
    #[serde(rename = "const")]
    pub value: String,
    /// Its title.
    pub title: String,
}

/// Single choice from titled values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TitledSingleSelectEnumSchema {
    /// `"string"`.
    #[serde(rename = "type")]
    pub kind: StringType,
    /// The choices.
    pub one_of: Vec<TitledValue>,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// The `items` of a multi-select: plain values or titled ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum MultiSelectItems {
    /// `{type: "string", enum: [...]}`
    Untitled {
        /// `"string"`.
        #[serde(rename = "type")]
        kind: StringType,
        /// The values.
        #[serde(rename = "enum")]
        values: Vec<String>,
    },
    /// `{anyOf: [{const, title}, ...]}`
    Titled {
        /// The choices.
        #[serde(rename = "anyOf")]
        any_of: Vec<TitledValue>,
    },
}

/// Multiple choices (2025-11-25 and later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MultiSelectEnumSchema {
    /// `"array"`.
    #[serde(rename = "type")]
    pub kind: ArrayType,
    /// The choices.
    pub items: MultiSelectItems,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Fewest selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Most selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// Default selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
}

/// The user's action on an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ElicitAction {
    /// Submitted.
    Accept,
    /// Explicitly declined.
    Decline,
    /// Dismissed.
    Cancel,
}

/// The client's answer to `elicitation/create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// Submitted values (form mode, `accept` only): strings, numbers, booleans or string lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

impl ElicitResult {
    /// An `accept` with these values.
    pub fn accept(content: JsonObject) -> Self {
        ElicitResult { action: ElicitAction::Accept, content: Some(content), meta: None }
    }
}

/// Params of the legacy `notifications/elicitation/complete` (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ElicitationCompleteParams {
    /// The URL elicitation that completed.
    pub elicitation_id: String,
}
