//! The load tester against a real MoCoPr server over loopback HTTP: the rate is held, the mix
//! follows the weights, failures are counted as errors, and an unreachable target is an error.

use std::time::Duration;

use mocopr_core::types::{CallToolResult, Resource, ResourceContents, Tool};
use mocopr_server::{EndpointConfig, HandlerError, McpServer, ResourceUri, serve_http};
use mocopr_testing::{LoadError, LoadScenario, LoadTester, Operation, Target};
use serde_json::json;

async fn server() -> String {
    let server = McpServer::builder()
        .tool(Tool::new("ok"), || async { Ok::<_, HandlerError>("fine") })
        .tool(Tool::new("broken"), || async { Ok::<_, HandlerError>(CallToolResult::error("no")) })
        .tool(Tool::new("slow"), || async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, HandlerError>("late")
        })
        .tool(Tool::new("stuck"), || async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok::<_, HandlerError>("very late")
        })
        .resource(Resource::new("mem://r", "r"), |ResourceUri(uri): ResourceUri| async move {
            ResourceContents::text(uri, "r")
        })
        .build()
        .expect("server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let endpoint = server.into_http(EndpointConfig::default());
    tokio::spawn(serve_http(listener, endpoint).with_path("/mcp").into_future());
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_is_held_the_mix_follows_the_weights_and_failures_count() {
    let url = server().await;
    let scenario = LoadScenario::builder()
        .with_operation(1, Operation::ListTools)
        .with_operation(2, Operation::call_tool("ok", json!({})))
        .with_operation(1, Operation::call_tool("broken", json!({})))
        .build()
        .expect("scenario");
    let mut ticks = 0;
    let report = LoadTester::builder(Target::parse(&url).expect("target"), scenario)
        .with_concurrent_clients(4)
        .with_requests_per_second(400.0)
        .with_duration(Duration::from_millis(1500))
        .with_ramp_up(Duration::from_millis(100))
        .build()
        .expect("tester")
        .run_with_progress(|_| ticks += 1)
        .await
        .expect("ran");
    // 400/s for 1.5 s, each client starting later by its ramp-up share and phase: 584 due.
    // Behind schedule a client sends what was due at once, so a loaded machine still gets them.
    assert!((450..=600).contains(&report.requests), "{report}");
    assert!(report.steady, "a steady part");
    let steady = report.throughput;
    assert!((300.0..=440.0).contains(&steady), "{steady} req/s after the ramp-up\n{report}");
    assert!(ticks >= 3, "progress was reported ({ticks})");
    let [list, ok, broken] = &report.operations[..] else { panic!("{report}") };
    assert_eq!((list.errors, ok.errors), (0, 0), "{report}");
    assert_eq!(broken.errors, broken.requests, "isError results are errors: {report}");
    assert_eq!(report.errors, broken.requests);
    let share = ok.requests as f64 / report.requests as f64;
    assert!((0.40..=0.60).contains(&share), "half the requests call `ok`: {share:.2}\n{report}");
    assert!(report.latency.p50_us > 0 && report.latency.p50_us <= report.latency.p99_us, "{report}");
    assert!(report.latency.p99_us <= report.latency.max_us);
    // Each request's service time is part of its latency from when it was due, and the
    // generator's own lateness is part of its schedule delay.
    assert!(report.service_time.p50_us > 0, "{report}");
    assert!(report.service_time.max_us <= report.latency.max_us.max(report.error_latency.max_us), "{report}");
    assert!(report.generator_lateness.max_us <= report.schedule_delay.max_us, "{report}");
    let text = report.to_string();
    assert!(text.contains("service     p50") && text.contains("delay       p50"), "{text}");
    assert_eq!(report.server_peak_rss_bytes, None, "not a child process");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("JSON report");
    assert_eq!(json["requests"], report.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_rate_clients_go_as_fast_as_the_server_answers() {
    let url = server().await;
    let scenario =
        LoadScenario::builder().with_operation(1, Operation::read_resource("mem://r")).build().expect("scenario");
    let report = LoadTester::builder(Target::parse(&url).expect("target"), scenario)
        .with_concurrent_clients(2)
        .with_duration(Duration::from_millis(500))
        .build()
        .expect("tester")
        .run()
        .await
        .expect("ran");
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.requests > 50, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_is_measured_in_microseconds_of_the_real_wait() {
    let url = server().await;
    let scenario =
        LoadScenario::builder().with_operation(1, Operation::call_tool("slow", json!({}))).build().expect("scenario");
    let report = LoadTester::builder(Target::parse(&url).expect("target"), scenario)
        .with_concurrent_clients(2)
        .with_requests_per_second(40.0)
        .with_duration(Duration::from_millis(600))
        .build()
        .expect("tester")
        .run()
        .await
        .expect("ran");
    assert_eq!(report.errors, 0, "{report}");
    assert!(report.latency.p50_us >= 20_000, "a 20 ms tool: {report}");
    assert!(report.latency.p50_us < 1_000_000, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_running_past_the_end_are_cut_off_not_waited_for() {
    let url = server().await;
    let scenario =
        LoadScenario::builder().with_operation(1, Operation::call_tool("stuck", json!({}))).build().expect("scenario");
    let report = LoadTester::builder(Target::parse(&url).expect("target"), scenario)
        .with_concurrent_clients(2)
        .with_duration(Duration::from_millis(300))
        .with_request_timeout(Duration::from_secs(30))
        .with_grace(Duration::from_millis(200))
        .build()
        .expect("tester")
        .run()
        .await
        .expect("ran");
    assert_eq!(report.unfinished, 2, "{report}");
    assert_eq!(report.errors, 2);
    // Cut off at the end of the grace, not after the 60 s tool or the 30 s timeout.
    assert!(report.elapsed_secs < 2.0, "{report}");
}

#[tokio::test]
async fn unusable_targets_and_settings_are_refused() {
    let scenario = LoadScenario::builder().with_operation(1, Operation::Ping).build().expect("scenario");
    assert!(matches!(Target::parse("ftp://x"), Err(LoadError::Target(_))));
    assert_eq!(
        Target::parse("stdio:server --flag 1").expect("stdio"),
        Target::Stdio { program: "server".into(), args: vec!["--flag".into(), "1".into()] }
    );
    let port = mocopr_testing::free_port().expect("port");
    let nobody = Target::parse(&format!("http://127.0.0.1:{port}/mcp")).expect("target");
    let tester = LoadTester::builder(nobody, scenario.clone()).with_duration(Duration::from_millis(100)).build();
    assert!(matches!(tester.expect("tester").run().await, Err(LoadError::Target(_))));
    for rate in [0.0, -1.0, f64::NAN, 1e-300, 1e12] {
        let bad = LoadTester::builder(Target::Http("http://x".into()), scenario.clone())
            .with_requests_per_second(rate)
            .build();
        assert!(matches!(bad, Err(LoadError::Config(_))), "rate {rate}");
    }
    let weightless: Result<LoadScenario, _> = serde_json::from_str(r#"{"operations":[{"weight":0,"op":"ping"}]}"#);
    assert!(weightless.is_err(), "a scenario without weights is refused when read, too");
}
