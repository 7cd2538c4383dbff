//! `lekdicht serve` as operators run it: request ids, JSON logs, `/healthz`, `/readyz`, the
//! protected `/metrics`, and a SIGTERM that lets the request in flight finish and exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const METRICS_TOKEN: &str = "metrics-token-for-the-test";

/// A running `lekdicht serve` with its standard error collected line by line.
struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lekdicht"))
            .arg("--data")
            .arg(data)
            .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .env("LEKDICHT_METRICS_TOKEN", METRICS_TOKEN)
            .stderr(Stdio::piped())
            .spawn()
            .expect("lekdicht runs");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut addr = None;
        let mut line = String::new();
        while addr.is_none() {
            line.clear();
            assert!(
                stderr.read_line(&mut line).expect("stderr") > 0,
                "serve ended early"
            );
            addr = line
                .split("http://")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .map(str::to_owned);
        }
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            addr: addr.expect("address"),
            log,
        }
    }

    /// Sends a raw HTTP/1.1 request and returns the whole answer.
    fn request(&self, head: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .write_all(format!("{head}Host: {}\r\nConnection: close\r\n\r\n", self.addr).as_bytes())
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn serve_answers_operators_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());

    // Health and readiness without a login, saying nothing but ok.
    let health = server.request("GET /healthz HTTP/1.1\r\nx-request-id: probe-42\r\n");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert_eq!(header(&health, "x-request-id"), Some("probe-42"));
    let ready = server.request("GET /readyz HTTP/1.1\r\n");
    assert!(
        ready.starts_with("HTTP/1.1 200") && ready.ends_with("ok"),
        "{ready}"
    );
    // A request without an id gets one.
    let login = server.request("GET /login HTTP/1.1\r\n");
    let generated = header(&login, "x-request-id").expect("a generated request id");
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    // Metrics answer the configured token only.
    let refused = server.request("GET /metrics HTTP/1.1\r\n");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    let metrics = server.request(&format!(
        "GET /metrics HTTP/1.1\r\nAuthorization: Bearer {METRICS_TOKEN}\r\n"
    ));
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    for name in [
        "lekdicht_events_stored 0",
        "lekdicht_quarantine_lines{state=\"open\"} 0",
        "lekdicht_alerts_open{age=\"lt_1d\"} 0",
        "lekdicht_ledger_leaves{log=\"events\"} 0",
        "lekdicht_http_request_duration_seconds_bucket{",
        "route=\"/healthz\"",
    ] {
        assert!(metrics.contains(name), "{name} in {metrics}");
    }

    // A request in flight: headers and half of the body sent...
    let mut stream = TcpStream::connect(&server.addr).expect("connect");
    let body = "username=nobody&password=not-the-password";
    let (first, rest) = body.split_at(20);
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: {}\r\nx-request-id: in-flight-7\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        server.addr,
        body.len()
    )
    .expect("write");
    std::thread::sleep(Duration::from_millis(300));
    // ...when SIGTERM arrives.
    let pid = server.child.id().to_string();
    let kill = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(kill.success());
    std::thread::sleep(Duration::from_millis(500));
    let mut server = server;
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "serve waits for the request in flight"
    );
    stream.write_all(rest.as_bytes()).expect("rest of the body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the login was answered: {answer}"
    );
    assert_eq!(header(&answer, "x-request-id"), Some("in-flight-7"));

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));

    // JSON log lines, each request's carrying its id; nothing names the account tried.
    std::thread::sleep(Duration::from_millis(100));
    let log = server.log.lock().unwrap().clone();
    let lines: Vec<serde_json::Value> = log
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("JSON: {l}")))
        .collect();
    let of = |id: &str| {
        lines
            .iter()
            .filter(|l| l["span"]["request_id"] == id)
            .count()
    };
    assert!(of("probe-42") >= 1, "{log:?}");
    assert!(of("in-flight-7") >= 1, "{log:?}");
    assert!(!log.iter().any(|l| l.contains("nobody")), "{log:?}");
}
