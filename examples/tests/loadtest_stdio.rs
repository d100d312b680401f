//! The load tester against the `echo-server` example started as a child process over stdio:
//! every request answered, and the server's peak memory reported.

use std::time::Duration;

use mocopr_testing::{LoadScenario, LoadTester, Operation, Target};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stdio_server_is_load_tested_and_its_peak_memory_reported() {
    let scenario = LoadScenario::builder()
        .with_operation(1, Operation::ListTools)
        .with_operation(3, Operation::call_tool("add", json!({"a": 1, "b": 2})))
        .with_operation(1, Operation::read_resource("mem://hello"))
        .build()
        .expect("scenario");
    let target = Target::parse(&format!("stdio:{} stdio", mocopr_testing::example_path("echo-server").display()))
        .expect("target");
    let report = LoadTester::builder(target, scenario)
        .with_concurrent_clients(8)
        .with_duration(Duration::from_millis(800))
        .build()
        .expect("tester")
        .run()
        .await
        .expect("ran");
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.requests > 100, "{report}");
    let rss = report.server_peak_rss_bytes.expect("the child's peak RSS");
    assert!((1 << 20..256 << 20).contains(&rss), "{rss} bytes\n{report}");
    assert_eq!(report.operations.len(), 3);
    assert!(report.operations.iter().all(|op| op.requests > 0), "{report}");
}
