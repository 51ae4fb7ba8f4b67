//! What the CLI tests share: running `canopy` as a command, and `canopy serve` as a real process on a
//! free port that the test waits for and that is stopped when it goes out of scope.

// Each test file compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// Runs `canopy` to completion with quiet logs and no stdin.
pub fn canopy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(args)
        .env("CANOPY_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run canopy")
}

/// Standard error of a finished command, for assertion messages.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A `canopy serve` process; killed when dropped unless it was stopped already.
pub struct Server {
    child: Option<Child>,
    pub base: String,
}

/// How to start a server: the database, then extra arguments and environment.
pub struct ServerBuilder {
    command: Command,
    port: u16,
}

impl Server {
    pub fn build(db: &str) -> ServerBuilder {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_canopy"));
        command
            .args([
                "serve",
                "--db",
                db,
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .env("CANOPY_LOG", "warn")
            .stdout(Stdio::null());
        ServerBuilder { command, port }
    }

    /// Starts a server with the defaults and waits until it is ready.
    pub async fn start(db: &str) -> Server {
        Self::build(db).start().await
    }

    /// Sends SIGTERM and waits for the process to exit, as a service manager would stop it.
    pub async fn terminate(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("a running server");
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        tokio::task::spawn_blocking(move || child.wait().expect("wait for canopy serve"))
            .await
            .expect("join")
    }
}

impl ServerBuilder {
    pub fn arg(mut self, arg: &str) -> Self {
        self.command.arg(arg);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Spawns the server and waits (up to 20 s) until `/readyz` answers: database reachable and migrated.
    pub async fn start(mut self) -> Server {
        let child = self.command.spawn().expect("start canopy serve");
        let server = Server {
            child: Some(child),
            base: format!("http://127.0.0.1:{}", self.port),
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("canopy serve did not become ready");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
