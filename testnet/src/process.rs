//! Child processes that outlive nothing by accident: each runs in its own process group, logs to a
//! file, records its PID in a file, and is stopped by PID (SIGTERM, then SIGKILL after a grace period).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::TestnetError;

/// A running service started by us.
#[derive(Debug)]
pub struct Service {
    pub name: &'static str,
    pub pid: u32,
    pub log: PathBuf,
    pid_file: PathBuf,
    /// Present when this process started the service, so it can be reaped; absent when it was
    /// found through its PID file (started by an earlier `testnet up`).
    child: Option<Child>,
}

impl Service {
    /// Spawns `command` with output to `log` and its PID written to `pid_file`.
    pub fn spawn(
        name: &'static str,
        mut command: Command,
        log: PathBuf,
        pid_file: PathBuf,
    ) -> Result<Self, TestnetError> {
        use std::os::unix::process::CommandExt;
        let out = File::create(&log).map_err(TestnetError::io(format!("creating {}", log.display())))?;
        let err = out.try_clone().map_err(TestnetError::io("log file"))?;
        // Own process group: a Ctrl-C meant for the caller does not reach the node half-way
        // through a block; we stop it ourselves, cleanly.
        command.stdin(Stdio::null()).stdout(out).stderr(err).process_group(0);
        let child =
            command.spawn().map_err(TestnetError::io(format!("starting {name} ({:?})", command.get_program())))?;
        let pid = child.id();
        std::fs::write(&pid_file, pid.to_string())
            .map_err(TestnetError::io(format!("writing {}", pid_file.display())))?;
        Ok(Service { name, pid, log, pid_file, child: Some(child) })
    }

    /// The service whose PID is recorded in `pid_file`, if that process is still alive.
    pub fn from_pid_file(name: &'static str, pid_file: PathBuf, log: PathBuf) -> Option<Self> {
        let pid: u32 = std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()?;
        is_alive(pid).then_some(Service { name, pid, log, pid_file, child: None })
    }

    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => is_alive(self.pid),
        }
    }

    /// SIGTERM, wait up to `grace` for a clean exit, then SIGKILL. Removes the PID file.
    pub fn stop(mut self, grace: Duration) -> Result<(), TestnetError> {
        self.terminate(grace);
        let _ = std::fs::remove_file(&self.pid_file);
        Ok(())
    }

    /// SIGKILL at once: for tests that simulate a crash.
    pub fn kill(mut self) {
        signal(self.pid, libc::SIGKILL);
        self.reap(Duration::from_secs(5));
        let _ = std::fs::remove_file(&self.pid_file);
    }

    fn terminate(&mut self, grace: Duration) {
        if !self.is_running() {
            return;
        }
        signal(self.pid, libc::SIGTERM);
        if !self.reap(grace) {
            tracing::warn!(service = self.name, pid = self.pid, "did not exit after SIGTERM; sending SIGKILL");
            signal(self.pid, libc::SIGKILL);
            self.reap(Duration::from_secs(5));
        }
    }

    /// Waits until the process is gone; true if it went within `timeout`.
    fn reap(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        !self.is_running()
    }
}

impl Drop for Service {
    /// A service owned by this process never outlives it by accident (a failing test included).
    fn drop(&mut self) {
        if self.child.is_some() {
            self.terminate(Duration::from_secs(10));
            let _ = std::fs::remove_file(&self.pid_file);
        }
    }
}

impl Service {
    /// Lets the service run on after this handle is dropped (what `testnet up` does).
    pub fn detach(mut self) {
        self.child = None;
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Whether a process with this PID exists (and is not a zombie).
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3 is the state; Z is a zombie that only waits to be reaped.
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// Runs a short command to completion; its output becomes the error if it fails.
pub fn run(command: &mut Command) -> Result<String, TestnetError> {
    let shown = format!(
        "{:?} {}",
        command.get_program(),
        command.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    let output = command.stdin(Stdio::null()).output().map_err(TestnetError::io(format!("running {shown}")))?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        return Err(TestnetError::Command {
            command: shown,
            status: output.status.to_string(),
            output: text.trim().to_string(),
        });
    }
    Ok(text)
}

/// Like [`run`], but the command's stderr goes to ours (cargo's progress bar), and only its
/// exit status is reported.
pub fn run_showing_progress(command: &mut Command) -> Result<(), TestnetError> {
    let shown = format!("{:?}", command.get_program());
    let status = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(TestnetError::io(format!("running {shown}")))?;
    if !status.success() {
        return Err(TestnetError::Command {
            command: shown,
            status: status.to_string(),
            output: "see the output above".into(),
        });
    }
    Ok(())
}

/// `n` distinct loopback ports the OS reports free now (all held open together while asked, so
/// no two are the same).
pub fn free_ports(n: usize) -> Result<Vec<u16>, TestnetError> {
    let listeners = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()
        .map_err(TestnetError::io("finding free ports"))?;
    Ok(listeners.iter().map(|l| l.local_addr().expect("bound").port()).collect())
}

/// Fails with [`TestnetError::PortInUse`] if something already listens on 127.0.0.1:`port`.
pub fn ensure_port_free(port: u16, what: &'static str) -> Result<(), TestnetError> {
    std::net::TcpListener::bind(("127.0.0.1", port)).map(drop).map_err(|_| TestnetError::PortInUse { port, what })
}

/// Waits until `probe` answers true, checking that the service is still alive in between.
pub fn wait_until(
    service: &mut Service,
    what: &'static str,
    timeout: Duration,
    mut probe: impl FnMut() -> bool,
) -> Result<(), TestnetError> {
    let deadline = Instant::now() + timeout;
    loop {
        if probe() {
            return Ok(());
        }
        if !service.is_running() || Instant::now() > deadline {
            return Err(TestnetError::NotReady { what, secs: timeout.as_secs(), log: service.log.clone() });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A log file's last lines, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
