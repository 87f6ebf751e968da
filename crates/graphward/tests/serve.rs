#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! End-to-end tests of the `graphward` binary: start `serve` on temp dirs and free ports, talk
//! to its listeners, stop it with SIGTERM, restart it on the same data directory.

#![cfg(unix)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_graphward");

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

struct Server {
    child: Child,
    log: PathBuf,
    bolt_port: u16,
    http_port: u16,
}

impl Server {
    /// Start with the flags the Python interop fixture uses, plus `extra`.
    fn start(data_dir: &Path, log_dir: &Path, extra: &[&str]) -> Server {
        let bolt_port = free_port();
        let http_port = free_port();
        let (bp, hp) = (bolt_port.to_string(), http_port.to_string());
        let mut args = vec![
            "serve",
            "--data-dir",
            data_dir.to_str().expect("utf-8 temp path"),
            "--bolt-address",
            "127.0.0.1",
            "--bolt-port",
            &bp,
            "--http-address",
            "127.0.0.1",
            "--http-port",
            &hp,
        ];
        args.extend_from_slice(extra);
        Self::spawn(Command::new(BIN).args(&args), log_dir, bolt_port, http_port)
    }

    fn spawn(cmd: &mut Command, log_dir: &Path, bolt_port: u16, http_port: u16) -> Server {
        let log = log_dir.join(format!("server-{bolt_port}.log"));
        let out = std::fs::File::create(&log).expect("create log");
        let child = cmd
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("clone log"))
            .stderr(out)
            .spawn()
            .expect("spawn graphward");
        let mut server = Server {
            child,
            log,
            bolt_port,
            http_port,
        };
        server.wait_for_listeners();
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Until both the Bolt and the HTTP listener accept (the HTTP one may come up after
    /// the Bolt one: a test that waited for Bolt only saw its first HTTP request refused).
    fn wait_for_listeners(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited early ({status}):\n{}", self.log());
            }
            let up = |port: u16| TcpStream::connect(("127.0.0.1", port)).is_ok();
            if up(self.bolt_port) && up(self.http_port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("server did not start:\n{}", self.log());
    }

    fn http_get(&self, path: &str) -> String {
        http_request(
            self.http_port,
            &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        )
    }

    /// SIGTERM, then wait (at most 20 s) for the exit status.
    fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(ok.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status, self.log());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn http_request(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect http");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write request");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read response");
    out
}

fn version_body() -> String {
    format!("\"graphward\":\"{}\"", env!("CARGO_PKG_VERSION"))
}

#[test]
fn serve_answers_stops_on_sigterm_and_restarts_on_the_same_data_dir() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");

    let server = Server::start(&data, tmp.path(), &[]);
    assert!(data.is_dir(), "data dir created");
    let root = server.http_get("/");
    assert!(root.starts_with("HTTP/1.1 200"), "{root}");
    assert!(root.contains("application/json"), "{root}");
    assert!(root.contains(&version_body()), "{root}");
    let missing = server.http_get("/no/such/endpoint");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    let log = server.log();
    assert!(
        log.contains(&format!("bolt://127.0.0.1:{}", server.bolt_port)),
        "{log}"
    );
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status}:\n{log}");
    assert!(log.contains("shutting down"), "{log}");

    // Same data directory again.
    let server = Server::start(&data, tmp.path(), &[]);
    assert!(server.http_get("/").contains(&version_body()));
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status}:\n{log}");
}

#[test]
fn settings_from_env_and_config_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bolt_port = free_port();
    let file_http_port = free_port();
    let config = tmp.path().join("graphward.toml");
    // The file names the HTTP port; the environment overrides the Bolt port; the data dir
    // is the default ./data relative to the working directory.
    std::fs::write(
        &config,
        format!("[bolt]\nport = 1\n[http]\nport = {file_http_port}\n[limits]\nquery_timeout = \"30s\"\n"),
    )
    .expect("write config");
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .current_dir(tmp.path())
        .env("GRAPHWARD_CONFIG", &config)
        .env("GRAPHWARD_BOLT_PORT", bolt_port.to_string());
    let server = Server::spawn(&mut cmd, tmp.path(), bolt_port, file_http_port);
    assert!(tmp.path().join("data").is_dir());
    assert!(server.http_get("/").contains(&version_body()));
    let (status, log) = server.terminate();
    assert!(status.success(), "exit {status}:\n{log}");
}

#[test]
fn a_taken_port_is_an_error_naming_the_address() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let out = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            tmp.path().to_str().expect("utf-8"),
            "--bolt-port",
            &port.to_string(),
            "--http-port",
            &free_port().to_string(),
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[test]
fn config_errors_exit_non_zero_with_a_clear_message() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("bad.toml");
    std::fs::write(&config, "[bolt]\nprot = 7687\n").expect("write");
    let out = Command::new(BIN)
        .args(["serve", "--config", config.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key `bolt.prot`"), "{err}");

    let out = Command::new(BIN)
        .args(["serve", "--max-rows", "many"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--max-rows"), "{err}");
}

#[test]
fn version_flag() {
    let out = Command::new(BIN).arg("--version").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.trim(),
        format!("graphward {}", env!("CARGO_PKG_VERSION"))
    );
}
