//! Unit tests of the load generator's pure parts: the exactly-once checker, the report's arithmetic and how several
//! instances are driven.

use std::collections::HashMap;

use crate::load::verify::{SessionEvidence, Violation, ViolationKind, check};

fn evidence(
    session: &str,
    acknowledged: &[&str],
    crm: &[u64],
    record: Option<(bool, Option<&str>)>,
) -> SessionEvidence {
    SessionEvidence {
        session: session.to_owned(),
        attempts: acknowledged.len().max(1) as u32,
        acknowledged_log_ids: acknowledged.iter().map(|id| (*id).to_owned()).collect(),
        queued_acknowledgements: 0,
        crm_activity_ids: crm.to_vec(),
        server_record: record.map(|(matched, id)| (matched, id.map(str::to_owned))),
    }
}

fn crm_map(sessions: &[SessionEvidence]) -> HashMap<String, Vec<u64>> {
    sessions
        .iter()
        .filter(|it| !it.crm_activity_ids.is_empty())
        .map(|it| (it.session.clone(), it.crm_activity_ids.clone()))
        .collect()
}

#[test]
fn clean_run_passes_and_counts_every_session() {
    let sessions = vec![
        evidence("s1", &["1"], &[1], Some((true, Some("1")))),
        evidence("s2", &["2"], &[2], Some((true, Some("2")))),
        // Every attempt failed and nothing exists anywhere: allowed.
        evidence("s3", &[], &[], Some((false, None))),
        // The answer was lost but the session is logged once: allowed.
        evidence("s4", &[], &[4], Some((true, Some("4")))),
    ];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert!(report.passed(), "{}", report.failure_message());
    assert_eq!((report.sessions, report.logged_once, report.never_logged), (4, 3, 1));
}

#[test]
fn a_session_logged_twice_fails_and_is_named() {
    let sessions = vec![
        evidence("ok", &["1"], &[1], Some((true, Some("1")))),
        evidence("dup-7", &["2"], &[2, 3], Some((true, Some("2")))),
    ];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert!(!report.passed());
    assert_eq!(
        report.violations,
        vec![Violation { session: "dup-7".into(), kind: ViolationKind::LoggedTwice { crm_creates: 2 } }]
    );
    let message = report.failure_message();
    assert!(message.contains("EXACTLY-ONCE CHECK FAILED"), "{message}");
    assert!(message.contains("dup-7") && message.contains("logged 2 times"), "{message}");
}

#[test]
fn a_session_acknowledged_but_never_logged_fails() {
    let sessions = vec![evidence("lost", &["9"], &[], Some((false, None)))];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert_eq!(
        report.violations.iter().map(|it| it.kind.clone()).collect::<Vec<_>>(),
        vec![ViolationKind::AcknowledgedButNotInCrm]
    );
}

#[test]
fn two_acknowledgements_of_different_records_fail() {
    let sessions = vec![evidence("twice", &["5", "6"], &[5], Some((true, Some("5"))))];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert_eq!(report.violations[0].kind, ViolationKind::AcknowledgedTwice { acknowledgements: 2 });
}

#[test]
fn merged_repeats_naming_the_one_record_pass() {
    let sessions = vec![evidence("merged", &["5", "5"], &[5], Some((true, Some("5"))))];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
}

#[test]
fn crm_record_without_server_record_fails() {
    let sessions = vec![evidence("orphan", &[], &[8], Some((false, None)))];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert_eq!(report.violations[0].kind, ViolationKind::InCrmButNotRecorded);
}

#[test]
fn only_an_unanswered_create_in_the_crm_may_be_recorded_later() {
    assert!(evidence("gave-up", &[], &[8], Some((false, None))).recording_may_follow());
    // Answered with a log id: the server must report it at once.
    assert!(!evidence("answered", &["8"], &[8], Some((false, None))).recording_may_follow());
    assert!(!evidence("recorded", &[], &[8], Some((true, Some("8")))).recording_may_follow());
    assert!(!evidence("twice", &[], &[8, 9], Some((false, None))).recording_may_follow());
    assert!(!evidence("unread", &[], &[8], None).recording_may_follow());
}

#[test]
fn server_record_without_crm_record_fails() {
    let sessions = vec![evidence("phantom", &[], &[], Some((true, Some("3"))))];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert_eq!(report.violations[0].kind, ViolationKind::RecordedButNotInCrm);
}

#[test]
fn mismatched_log_ids_fail() {
    let sessions = vec![
        evidence("server-wrong", &["1"], &[1], Some((true, Some("2")))),
        evidence("answer-wrong", &["7"], &[3], Some((true, Some("3")))),
    ];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert_eq!(
        report.violations,
        vec![
            Violation {
                session: "server-wrong".into(),
                kind: ViolationKind::LogIdMismatch { crm: "1".into(), server: "2".into() }
            },
            Violation {
                session: "answer-wrong".into(),
                kind: ViolationKind::LogIdMismatch { crm: "3".into(), server: "7".into() }
            },
        ]
    );
}

#[test]
fn unreadable_server_record_fails() {
    let sessions = vec![evidence("unknown", &["1"], &[1], None)];
    let report = check(&sessions, &crm_map(&sessions), 0);
    assert_eq!(report.violations[0].kind, ViolationKind::Unverified);
}

#[test]
fn crm_activity_for_an_unsent_session_fails() {
    let sessions = vec![evidence("s1", &["1"], &[1], Some((true, Some("1"))))];
    let mut crm = crm_map(&sessions);
    crm.insert("stranger".into(), vec![2, 3]);
    let report = check(&sessions, &crm, 0);
    assert_eq!(
        report.violations,
        vec![Violation { session: "stranger".into(), kind: ViolationKind::UnknownSession { crm_creates: 2 } }]
    );
}

#[test]
fn activities_without_a_session_fail_the_check() {
    let report = check(&[], &HashMap::new(), 2);
    assert!(!report.passed());
    assert!(report.failure_message().contains("2 CRM activities carried no session id"));
}

mod pure_parts {
    use std::time::Duration;

    use crate::load::driver::{Mix, RoundRobin, normalise};
    use crate::load::mock::session_in_subject;
    use crate::load::process::{count_established, cpu_time_from_stat};
    use crate::load::report::{OpKind, Outcome, Percentiles, Recorder, ServerResources};
    use crate::load::server::check_instances;

    #[test]
    fn each_request_goes_to_the_next_instance() {
        let instances = RoundRobin::new(vec!["http://a".into(), "http://b".into()]);
        let picks: Vec<&str> = (0..5).map(|_| instances.pick()).collect();
        assert_eq!(picks, ["http://a", "http://b", "http://a", "http://b", "http://a"]);
        let one = RoundRobin::new(vec!["http://a".into()]);
        assert!((0..3).all(|_| one.pick() == "http://a"));
    }

    #[test]
    fn several_instances_need_a_postgres_database() {
        assert!(check_instances(1, None).is_ok());
        assert!(check_instances(2, Some("postgres://postgres@127.0.0.1:5432/cap1")).is_ok());
        let refused = check_instances(2, None).unwrap_err().to_string();
        assert!(refused.contains("needs --database-url postgres://"), "{refused}");
        assert!(check_instances(3, Some("/tmp/load.db")).is_err());
        assert!(check_instances(0, None).is_err());
    }

    #[test]
    fn the_instances_resources_add_up_and_one_instance_is_the_server() {
        let instance = |pid: u32, rss: f64, cpu: Option<f64>| ServerResources {
            pid: Some(pid),
            peak_rss_mib: Some(rss),
            cpu_seconds: cpu,
            ..ServerResources::default()
        };
        let window = Duration::from_secs(10);
        let (total, each) =
            ServerResources::total(vec![instance(1, 40.0, Some(2.0)), instance(2, 42.0, Some(3.0))], 1_000, window);
        let total = total.unwrap();
        assert_eq!((total.pid, total.peak_rss_mib, total.cpu_seconds), (None, Some(82.0), Some(5.0)));
        assert_eq!(total.cpu_ms_per_request, Some(5.0));
        assert!(total.cpu_cores_used.is_some_and(|cores| (cores - 0.5).abs() < 1e-9), "{total:?}");
        assert_eq!(each.iter().map(|it| it.cpu_cores_used).collect::<Vec<_>>(), [Some(0.2), Some(0.3)]);

        let (one, each) = ServerResources::total(vec![instance(7, 40.0, Some(2.0))], 1_000, window);
        let expected = ServerResources {
            pid: Some(7),
            peak_rss_mib: Some(40.0),
            cpu_seconds: Some(2.0),
            cpu_ms_per_request: Some(2.0),
            cpu_cores_used: Some(0.2),
        };
        assert_eq!((one, each), (Some(expected), Vec::new()));

        let (unknown, _) =
            ServerResources::total(vec![instance(1, 40.0, None), instance(2, 42.0, Some(1.0))], 10, window);
        assert_eq!(unknown.map(|it| (it.cpu_seconds, it.peak_rss_mib)), Some((None, Some(82.0))));
        assert_eq!(ServerResources::total(Vec::new(), 10, window), (None, Vec::new()));
    }

    #[test]
    fn the_mix_cycle_holds_each_operation_as_often_as_its_weight_and_spreads_them() {
        let cycle = Mix { contact: 2, create: 1, update: 1, get: 0, duplicate: 0 }.cycle();
        assert_eq!(cycle, vec![OpKind::Contact, OpKind::Create, OpKind::Update, OpKind::Contact]);
        let cycle = Mix::default().cycle();
        assert_eq!(cycle.len(), 100);
        assert_eq!(cycle.iter().filter(|op| **op == OpKind::DuplicateCreate).count(), 5);
        // Spread evenly: no two duplicates in any window of 10.
        assert!(cycle.windows(10).all(|w| w.iter().filter(|op| **op == OpKind::DuplicateCreate).count() <= 1));
    }

    #[test]
    fn errors_group_by_kind_not_by_session() {
        assert_eq!(
            normalise("successful:false: Existing log for session 17370000000001234"),
            "successful:false: Existing log for session <n>"
        );
        assert_eq!(normalise("http 503: busy"), "http 503: busy");
    }

    #[test]
    fn the_session_is_read_from_the_activity_subject() {
        assert_eq!(session_in_subject("callbridge-load 123 inbound call"), Some("123"));
        assert_eq!(session_in_subject("callbridge-load"), None);
        assert_eq!(session_in_subject("Inbound call from Bob"), None);
    }

    #[test]
    fn cpu_time_is_user_plus_system_ticks_even_with_spaces_in_the_name() {
        let stat = "4242 (call bridge) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 9 0 100 1000 500";
        assert_eq!(cpu_time_from_stat(stat), Some(Duration::from_secs(2)));
        assert_eq!(cpu_time_from_stat("garbage"), None);
    }

    /// An address as the kernel's socket tables print it: native-order 32-bit words of the network-order bytes.
    fn proc_address(ip: std::net::IpAddr, port: u16) -> String {
        let words: Vec<String> = match ip {
            std::net::IpAddr::V4(v4) => vec![format!("{:08X}", u32::from_ne_bytes(v4.octets()))],
            std::net::IpAddr::V6(v6) => v6
                .octets()
                .chunks_exact(4)
                .map(|word| format!("{:08X}", u32::from_ne_bytes([word[0], word[1], word[2], word[3]])))
                .collect(),
        };
        format!("{}:{port:04X}", words.concat())
    }

    #[test]
    fn open_connections_count_the_established_client_ends_whose_remote_is_the_server() {
        let server: std::net::SocketAddr = "127.0.0.1:38861".parse().unwrap();
        let client = |port: u16| proc_address("127.0.0.1".parse().unwrap(), port);
        let to_server = proc_address(server.ip(), server.port());
        let row = |index: usize, local: &str, remote: &str, state: &str| {
            format!(
                "{index:4}: {local} {remote} {state} 00000000:00000000 00:00000000 00000000  1000  0 5413 1 0 100 0 0 10 0"
            )
        };
        let table = [
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
                .to_owned(),
            row(0, &to_server, &proc_address("0.0.0.0".parse().unwrap(), 0), "0A"), // the listener
            row(1, &client(50_001), &to_server, "01"),                              // a client end: counted
            row(2, &to_server, &client(50_001), "01"),                              // the server's end of it
            row(3, &client(50_002), &to_server, "01"),                              // counted
            row(4, &client(50_003), &to_server, "06"),                              // TIME_WAIT: closed
            row(5, &client(50_004), &client(9_100), "01"),                          // another server
            "garbage".to_owned(),
        ]
        .join("\n");
        assert_eq!(count_established(&table, server), 2);

        // A client on an IPv6 socket reaching the IPv4 server shows it as `::ffff:127.0.0.1`.
        let mapped = proc_address("::ffff:127.0.0.1".parse().unwrap(), server.port());
        let local6 = proc_address("::ffff:127.0.0.1".parse().unwrap(), 50_005);
        let table6 = ["header".to_owned(), row(0, &local6, &mapped, "01")].join("\n");
        assert_eq!(count_established(&table6, server), 1);
        let loopback6: std::net::SocketAddr = "[::1]:38861".parse().unwrap();
        assert_eq!(count_established(&table6, loopback6), 0);
    }

    #[test]
    fn the_recorder_counts_outcomes_and_percentiles_come_out_in_milliseconds() {
        let mut recorder = Recorder::default();
        for ms in 1..=100 {
            let outcome = if ms == 100 { Outcome::Error("http 500: boom".into()) } else { Outcome::Ok };
            recorder.record(OpKind::Get, Duration::from_millis(ms), Duration::from_micros(ms * 10), 0, &outcome);
        }
        let stats = &recorder.ops[&OpKind::Get];
        assert_eq!((stats.requests, stats.ok, stats.failed), (100, 99, 1));
        assert_eq!(recorder.errors["get: http 500: boom"], 1);
        let latency = Percentiles::of(&stats.latency);
        assert!((latency.p50 - 50.0).abs() < 0.1 && (latency.max - 100.0).abs() < 0.1, "{latency:?}");
        let server = Percentiles::of(&stats.server);
        assert!((server.p99 - 0.99).abs() < 0.01, "{server:?}");
    }
}

mod mock_crm {
    use std::time::Duration;

    use serde_json::{Value, json};

    use crate::load::driver::http_client;
    use crate::load::mock::MockPipedrive;

    #[tokio::test]
    async fn the_mock_logs_users_in_records_creates_by_session_and_times_each_user() {
        let mock = MockPipedrive::start(0, 3, Duration::from_millis(5)).await.unwrap();
        let http = http_client(Duration::from_secs(5)).unwrap();
        let token: Value = http
            .post(format!("{}/oauth/token", mock.url()))
            .form(&[("grant_type", "authorization_code"), ("code", "user-2"), ("redirect_uri", "x")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(token["access_token"], "load-access-2");
        let bearer = "Bearer load-access-2";
        let me: Value = http
            .get(format!("{}/v1/users/me", mock.url()))
            .header("authorization", bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["data"]["id"], 70_002);
        let created: Value = http
            .post(format!("{}/api/v2/activities", mock.url()))
            .header("authorization", bearer)
            .json(&json!({ "subject": "callbridge-load 42 inbound", "note": "<p>hi</p>", "participants": [{ "person_id": 7 }] }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["data"]["id"].as_u64().unwrap();
        let fetched: Value = http
            .get(format!("{}/api/v2/activities/{id}", mock.url()))
            .header("authorization", bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(fetched["data"]["note"], "<p>hi</p>");
        assert_eq!(fetched["related_objects"]["person"]["7"]["name"], "Person 7");
        let refused = http.get(format!("{}/v1/users/me", mock.url())).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let unknown = http.get(format!("{}/v1/nothing", mock.url())).send().await.unwrap();
        assert_eq!(unknown.status(), 404);

        let ledger = mock.ledger();
        assert_eq!(ledger.creates_by_session["42"], vec![id]);
        assert_eq!(ledger.calls_by_endpoint["POST /api/v2/activities"], 1);
        assert_eq!(ledger.unauthorized, 1);
        assert_eq!(ledger.unexpected["GET /v1/nothing"], 1);
        // The token call (by code) and three data calls are user 2's, each at least the delay long.
        let usage = mock.usage(2);
        assert_eq!(usage.calls, 4);
        assert!(usage.busy >= Duration::from_millis(20), "{usage:?}");
        assert_eq!(mock.usage(1).calls, 0);
        mock.stop().await;
    }
}

mod server_metrics {
    use crate::load::metrics::{ServerTiming, parse, window};

    #[test]
    fn route_and_crm_means_come_from_the_difference_of_two_scrapes() {
        let before = parse(
            "# TYPE callbridge_http_request_duration_seconds histogram\n\
             callbridge_http_request_duration_seconds_bucket{method=\"GET\",route=\"/contact\",le=\"0.001\"} 1\n\
             callbridge_http_request_duration_seconds_sum{method=\"GET\",route=\"/contact\"} 1.0\n\
             callbridge_http_request_duration_seconds_count{method=\"GET\",route=\"/contact\"} 10\n\
             callbridge_crm_call_duration_seconds_sum{connector=\"pipedrive\",operation=\"findContact\"} 0.5\n\
             callbridge_crm_call_duration_seconds_count{connector=\"pipedrive\",operation=\"findContact\"} 10\n",
        );
        let after = parse(
            "callbridge_http_request_duration_seconds_sum{method=\"GET\",route=\"/contact\"} 1.5\n\
             callbridge_http_request_duration_seconds_count{method=\"GET\",route=\"/contact\"} 110\n\
             callbridge_http_request_duration_seconds_sum{method=\"GET\",route=\"/isAlive\"} 0.0\n\
             callbridge_http_request_duration_seconds_count{method=\"GET\",route=\"/isAlive\"} 0\n\
             callbridge_crm_call_duration_seconds_sum{connector=\"pipedrive\",operation=\"findContact\"} 4.5\n\
             callbridge_crm_call_duration_seconds_count{connector=\"pipedrive\",operation=\"findContact\"} 110\n\
             other_metric_sum{a=\"b\"} 3\n",
        );
        assert_eq!(
            window(&before, &after),
            vec![
                ServerTiming { series: "crm findContact".into(), count: 100, mean_ms: 40.0 },
                ServerTiming { series: "http GET /contact".into(), count: 100, mean_ms: 5.0 },
            ]
        );
    }
}

mod delivery {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use crate::load::recovery::{Accepted, OutageWindow, measure};

    #[test]
    fn lags_duplicates_and_the_recovery_after_an_outage_are_measured() {
        let t0 = Instant::now();
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        let accepted = Accepted {
            creates: vec![("a".into(), at(1)), ("b".into(), at(2)), ("c".into(), at(3))],
            updates: vec![
                ("a".into(), "a1".into(), at(4)),
                ("a".into(), "a2".into(), at(5)),
                ("b".into(), "b1".into(), at(6)),
            ],
        };
        // a: created before its answer; b: 10 s after; c: never. a1 applied twice, a2 once, b1 never.
        let deliveries = HashMap::from([
            (
                "a".to_owned(),
                (at(0), vec![("a1".to_owned(), at(7)), ("a1".to_owned(), at(8)), ("a2".to_owned(), at(20))]),
            ),
            ("b".to_owned(), (at(12), vec![])),
        ]);
        let outage = OutageWindow { start: at(2), end: at(10), offset_s: 2.0 };
        let report = measure(&accepted, &deliveries, Some(outage));
        assert_eq!((report.creates_accepted, report.updates_accepted), (3, 3));
        assert_eq!((report.undelivered_creates, report.undelivered_updates, report.updates_applied_twice), (1, 1, 1));
        assert_eq!(report.max_create_lag_s, 10.0);
        assert_eq!(report.max_update_lag_s, 15.0);
        let outage = report.outage.as_ref().unwrap();
        assert_eq!((outage.length_s, outage.last_delivery_after_end_s), (8.0, 10.0));
        assert!(!report.passed());
    }
}
