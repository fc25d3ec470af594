//! The real `shoal` binary as a child process: fresh data root and socket in a temp dir, logs
//! to a file there (printed when the test fails), killed on drop.

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::env;

pub struct Shoal {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// The API socket (`-H unix://...`).
    pub socket: PathBuf,
    /// `--data-root`.
    pub data_root: PathBuf,
    /// Where stdout and stderr of every start go.
    pub log: PathBuf,
    engine: String,
    extra_hosts: Vec<String>,
}

impl Shoal {
    /// Starts shoal against `engine` and waits until `/_ping` answers.
    pub fn start(engine: &str) -> Shoal {
        Self::start_with(engine, &[])
    }

    /// Like [`Shoal::start`], also listening on `extra_hosts` (`tcp://127.0.0.1:PORT`, ...).
    pub fn start_with(engine: &str, extra_hosts: &[&str]) -> Shoal {
        let dir = tempfile::Builder::new()
            .prefix("shoal-compat-")
            .tempdir()
            .expect("temp dir");
        let mut shoal = Shoal {
            socket: dir.path().join("shoal.sock"),
            data_root: dir.path().join("data"),
            log: dir.path().join("shoal.log"),
            dir,
            child: None,
            engine: engine.to_string(),
            extra_hosts: extra_hosts.iter().map(|s| s.to_string()).collect(),
        };
        shoal.spawn();
        shoal
    }

    /// `unix:///.../shoal.sock`
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The scratch directory this shoal lives in.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open log");
        let mut args = vec![
            "-H".to_string(),
            self.host(),
            "--data-root".to_string(),
            self.data_root.display().to_string(),
            "--engine".to_string(),
            self.engine.clone(),
        ];
        for h in &self.extra_hosts {
            args.push("-H".to_string());
            args.push(h.clone());
        }
        let child = Command::new(env!("CARGO_BIN_EXE_shoal"))
            .args(&args)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log"))
            .stderr(log)
            .spawn()
            .expect("start shoal");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if env::ping(&self.host()) == Some(200) {
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "shoal exited before answering /_ping ({status})\n{}",
                        self.log_text()
                    );
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "shoal did not answer /_ping within 30 s\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// SIGKILL, and reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait (up to 20 s) for a clean exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("shoal is not running");
        // SAFETY: sending a signal to our own child by its pid.
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "shoal did not exit within 20 s of SIGTERM\n{}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Starts again on the same data root and socket (after [`Shoal::kill9`] or
    /// [`Shoal::stop`]).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart() of a running shoal");
        self.spawn();
    }

    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        format!(
            "===== shoal log ({}) =====\n{text}\n===== end of shoal log =====",
            self.log.display()
        )
    }
}

impl Drop for Shoal {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            // libtest shows this with the failed test's output.
            eprintln!("{}", self.log_text());
        }
    }
}
