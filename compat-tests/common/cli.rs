//! Running commands (the `docker` CLI above all) and asserting on what a user sees.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Default limit for one command: generous, but a hang becomes a failure, not a stuck suite.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// What a command did: exit code, stdout, stderr.
#[derive(Debug, Clone)]
pub struct Out {
    pub cmd: String,
    /// Exit code; -1 when killed by a signal or the timeout.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

/// Options for [`run`].
#[derive(Default, Clone)]
pub struct Opts {
    pub env: Vec<(String, String)>,
    pub env_remove: Vec<String>,
    pub cwd: Option<PathBuf>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
}

/// Runs `program args...`, capturing stdout and stderr, killing it after the timeout.
pub fn run(program: &str, args: &[&str], opts: &Opts) -> Out {
    let cmd_text = std::iter::once(program.to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = Command::new(program);
    command.args(args);
    for key in &opts.env_remove {
        command.env_remove(key);
    }
    for (k, v) in &opts.env {
        command.env(k, v);
    }
    if let Some(cwd) = &opts.cwd {
        command.current_dir(cwd);
    }
    command
        .stdin(if opts.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Out {
                cmd: cmd_text,
                code: 127,
                stdout: String::new(),
                stderr: format!("cannot start {program}: {e}"),
                timed_out: false,
            }
        }
    };
    if let Some(input) = opts.stdin.clone() {
        if let Some(mut stdin) = child.stdin.take() {
            std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
        }
    }
    let mut out_pipe = child.stdout.take().expect("stdout is piped");
    let mut err_pipe = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let timeout = opts.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let mut stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    if timed_out {
        stderr.push_str(&format!("\n[harness: killed after {timeout:?}]\n"));
    }
    Out {
        cmd: cmd_text,
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout,
        stderr,
        timed_out,
    }
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

impl Out {
    fn dump(&self) -> String {
        format!(
            "$ {}\n--- exit code: {}{}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.cmd,
            self.code,
            if self.timed_out { " (timed out)" } else { "" },
            self.stdout,
            self.stderr
        )
    }

    /// Panics with the command, its exit code, stdout and stderr.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!("{why}\n{}", self.dump())
    }

    /// Exit code 0.
    #[track_caller]
    pub fn ok(&self) -> &Self {
        if self.code != 0 {
            self.fail("expected exit code 0");
        }
        self
    }

    /// Exactly this exit code.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        if self.code != code {
            self.fail(&format!("expected exit code {code}"));
        }
        self
    }

    /// stdout is exactly `want`.
    #[track_caller]
    pub fn stdout_is(&self, want: &str) -> &Self {
        if self.stdout != want {
            self.fail(&format!("expected stdout to be exactly {want:?}"));
        }
        self
    }

    /// stderr is exactly `want`.
    #[track_caller]
    pub fn stderr_is(&self, want: &str) -> &Self {
        if self.stderr != want {
            self.fail(&format!("expected stderr to be exactly {want:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stdout_has(&self, want: &str) -> &Self {
        if !self.stdout.contains(want) {
            self.fail(&format!("expected stdout to contain {want:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, want: &str) -> &Self {
        if !self.stderr.contains(want) {
            self.fail(&format!("expected stderr to contain {want:?}"));
        }
        self
    }

    #[track_caller]
    pub fn stdout_lacks(&self, unwanted: &str) -> &Self {
        if self.stdout.contains(unwanted) {
            self.fail(&format!("expected stdout NOT to contain {unwanted:?}"));
        }
        self
    }

    /// stdout matches the regular expression (multi-line mode).
    #[track_caller]
    pub fn stdout_re(&self, re: &str) -> &Self {
        if !super::matches(&self.stdout, re) {
            self.fail(&format!("expected stdout to match /{re}/"));
        }
        self
    }

    #[track_caller]
    pub fn stderr_re(&self, re: &str) -> &Self {
        if !super::matches(&self.stderr, re) {
            self.fail(&format!("expected stderr to match /{re}/"));
        }
        self
    }

    /// The usual CLI failure: exit 1, nothing on stdout, `Error response from daemon: <msg>`.
    #[track_caller]
    pub fn daemon_error(&self, message: &str) -> &Self {
        self.code(1)
            .stderr_is(&format!("Error response from daemon: {message}\n"))
    }

    /// stdout without surrounding whitespace.
    pub fn trimmed(&self) -> &str {
        self.stdout.trim()
    }

    /// Non-empty stdout lines, with trailing whitespace removed.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| self.fail(&format!("stdout is not JSON: {e}")))
    }
}

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(&path, contents).expect("write file");
    path
}
