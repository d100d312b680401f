//! What a load test sends: weighted operations, built in code or read from a JSON file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::LoadError;

/// One kind of request a simulated client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Operation {
    /// `tools/list` (first page).
    ListTools,
    /// `tools/call`.
    CallTool {
        /// The tool.
        name: String,
        /// Its arguments (an object).
        #[serde(default = "empty_object")]
        arguments: Value,
    },
    /// `resources/read`.
    ReadResource {
        /// The resource.
        uri: String,
    },
    /// `resources/list` (first page).
    ListResources,
    /// `prompts/list` (first page).
    ListPrompts,
    /// `prompts/get`.
    GetPrompt {
        /// The prompt.
        name: String,
        /// Its arguments.
        #[serde(default)]
        arguments: Map<String, Value>,
    },
    /// `ping`.
    Ping,
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

impl Operation {
    /// A tool call.
    pub fn call_tool(name: impl Into<String>, arguments: Value) -> Self {
        Operation::CallTool { name: name.into(), arguments }
    }

    /// A resource read.
    pub fn read_resource(uri: impl Into<String>) -> Self {
        Operation::ReadResource { uri: uri.into() }
    }

    /// A short label for reports: the method, and the tool, resource or prompt.
    pub fn label(&self) -> String {
        match self {
            Operation::ListTools => "tools/list".into(),
            Operation::CallTool { name, arguments } => match arguments.as_object().filter(|a| !a.is_empty()) {
                // The arguments tell apart calls of one tool; long ones are cut.
                Some(_) => {
                    let mut args = arguments.to_string();
                    if args.chars().count() > 40 {
                        args = args.chars().take(39).chain(['…']).collect();
                    }
                    format!("tools/call {name} {args}")
                }
                None => format!("tools/call {name}"),
            },
            Operation::ReadResource { uri } => format!("resources/read {uri}"),
            Operation::ListResources => "resources/list".into(),
            Operation::ListPrompts => "prompts/list".into(),
            Operation::GetPrompt { name, .. } => format!("prompts/get {name}"),
            Operation::Ping => "ping".into(),
        }
    }
}

/// An operation and its share of the requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedOperation {
    /// Relative weight (e.g. 70 of a total of 100).
    pub weight: u32,
    /// The operation.
    #[serde(flatten)]
    pub operation: Operation,
}

/// The mix of operations every simulated client draws from.
///
/// As JSON (`cargo xtask loadtest --scenario FILE`):
///
/// ```json
/// { "operations": [
///     { "weight": 10, "op": "list_tools" },
///     { "weight": 70, "op": "call_tool", "name": "echo", "arguments": { "text": "hi" } },
///     { "weight": 20, "op": "read_resource", "uri": "mem://hello" } ] }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedScenario")]
pub struct LoadScenario {
    operations: Vec<WeightedOperation>,
}

/// A scenario as read, before it is checked.
#[derive(Deserialize)]
struct UncheckedScenario {
    operations: Vec<WeightedOperation>,
}

impl TryFrom<UncheckedScenario> for LoadScenario {
    type Error = LoadError;

    fn try_from(unchecked: UncheckedScenario) -> Result<Self, LoadError> {
        let scenario = LoadScenario { operations: unchecked.operations };
        scenario.validate()?;
        Ok(scenario)
    }
}

impl LoadScenario {
    /// Starts building a scenario: operations with weights (here, three reads to each call).
    ///
    /// ```
    /// use mocopr_testing::{LoadScenario, Operation};
    ///
    /// let scenario = LoadScenario::builder()
    ///     .with_operation(1, Operation::call_tool("search", serde_json::json!({ "query": "rust" })))
    ///     .with_operation(3, Operation::read_resource("docs://readme"))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(scenario.operations().len(), 2);
    /// ```
    pub fn builder() -> LoadScenarioBuilder {
        LoadScenarioBuilder::default()
    }

    /// A scenario from its JSON form.
    pub fn from_json(json: &str) -> Result<Self, LoadError> {
        serde_json::from_str(json).map_err(|e| LoadError::Scenario(format!("not a scenario: {e}")))
    }

    /// The operations and their weights.
    pub fn operations(&self) -> &[WeightedOperation] {
        &self.operations
    }

    /// Checks that some operation has a weight and tool arguments are objects.
    pub(crate) fn validate(&self) -> Result<(), LoadError> {
        if self.operations.iter().all(|o| o.weight == 0) {
            return Err(LoadError::Scenario("a scenario needs an operation with a weight above 0".into()));
        }
        for op in &self.operations {
            if let Operation::CallTool { arguments, .. } = &op.operation
                && !arguments.is_object()
            {
                return Err(LoadError::Scenario(format!("{}: arguments must be an object", op.operation.label())));
            }
        }
        Ok(())
    }

    /// The index of the operation a uniform draw in `0..total_weight` lands on.
    pub(crate) fn pick(&self, draw: u64) -> usize {
        let mut left = draw;
        for (index, op) in self.operations.iter().enumerate() {
            if left < u64::from(op.weight) {
                return index;
            }
            left -= u64::from(op.weight);
        }
        self.operations.len().saturating_sub(1)
    }

    pub(crate) fn total_weight(&self) -> u64 {
        self.operations.iter().map(|o| u64::from(o.weight)).sum()
    }
}

/// Builds a [`LoadScenario`].
#[derive(Debug, Default)]
pub struct LoadScenarioBuilder {
    operations: Vec<WeightedOperation>,
}

impl LoadScenarioBuilder {
    /// Adds `operation` with relative `weight`.
    pub fn with_operation(mut self, weight: u32, operation: Operation) -> Self {
        self.operations.push(WeightedOperation { weight, operation });
        self
    }

    /// The scenario; an error when no operation has a weight or tool arguments are not objects.
    pub fn build(self) -> Result<LoadScenario, LoadError> {
        let scenario = LoadScenario { operations: self.operations };
        scenario.validate()?;
        Ok(scenario)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn draws_land_on_operations_by_weight() {
        let scenario = LoadScenario::builder()
            .with_operation(10, Operation::ListTools)
            .with_operation(70, Operation::call_tool("echo", json!({})))
            .with_operation(20, Operation::read_resource("mem://hello"))
            .build()
            .unwrap();
        assert_eq!(scenario.total_weight(), 100);
        let counts = (0..100).fold([0; 3], |mut counts, draw| {
            counts[scenario.pick(draw)] += 1;
            counts
        });
        assert_eq!(counts, [10, 70, 20]);
    }

    #[test]
    fn scenarios_read_from_json_and_bad_ones_are_refused() {
        let scenario = LoadScenario::from_json(
            r#"{"operations":[{"weight":1,"op":"list_tools"},{"weight":3,"op":"call_tool","name":"add","arguments":{"a":1,"b":2}}]}"#,
        )
        .unwrap();
        assert_eq!(scenario.operations()[1].operation, Operation::call_tool("add", json!({"a": 1, "b": 2})));
        assert!(LoadScenario::from_json(r#"{"operations":[]}"#).is_err());
        assert!(LoadScenario::from_json(r#"{"operations":[{"weight":1,"op":"teleport"}]}"#).is_err());
        assert!(
            LoadScenario::from_json(r#"{"operations":[{"weight":1,"op":"call_tool","name":"x","arguments":[]}]}"#)
                .is_err()
        );
    }
}
