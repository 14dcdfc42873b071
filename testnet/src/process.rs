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

/// `n` distinct loopback ports, free now, for services that bind them later (a node started
/// with its ports on the command line cannot take port 0 and report back). Two races of the
/// find-release-bind gap are closed:
/// - with other Arena networks on this machine (parallel tests, other test binaries): ports are
///   handed out under an exclusive lock on a registry file in the temporary folder, which records
///   each one with its taker's PID; a port is not handed out again while its taker lives (for at
///   most an hour) or for 10 minutes, by then long bound or abandoned;
/// - with the kernel, which gives outgoing connections and `bind(0)` ports of its ephemeral range
///   (`/proc/sys/net/ipv4/ip_local_port_range`): ports are taken below that range.
pub fn free_ports(n: usize) -> Result<Vec<u16>, TestnetError> {
    let registry = std::env::temp_dir().join("arena-ports.registry");
    let mut file = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&registry)
        .map_err(TestnetError::io(format!("opening {}", registry.display())))?;
    let _lock = FileLock::exclusive(&file).map_err(TestnetError::io(format!("locking {}", registry.display())))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).map_err(TestnetError::io("reading the port registry"))?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut reserved: Vec<Reservation> = text.lines().filter_map(Reservation::parse).filter(|r| r.holds(now)).collect();

    let (floor, ceiling) = (PORTS_FROM, ephemeral_floor().max(PORTS_FROM + 1000));
    let span = u32::from(ceiling - floor);
    // A different starting point per process and call, so that takers rarely probe the same ports.
    let start = (std::process::id().wrapping_mul(2_654_435_761) ^ now as u32 ^ reserved.len() as u32) % span;
    let mut listeners = Vec::with_capacity(n);
    for offset in 0..span {
        if listeners.len() == n {
            break;
        }
        let port = floor + ((start + offset) % span) as u16;
        if reserved.iter().any(|r| r.port == port) {
            continue;
        }
        // Held open until all n are found, so no two are the same; released for their services.
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            listeners.push(listener);
        }
    }
    if listeners.len() < n {
        return Err(TestnetError::Io {
            context: format!("finding {n} free ports in {floor}..{ceiling}"),
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        });
    }
    let ports: Vec<u16> = listeners.iter().map(|l| l.local_addr().expect("bound").port()).collect();
    reserved.extend(ports.iter().map(|&port| Reservation { port, pid: std::process::id(), since: now }));
    let text: String = reserved.iter().map(|r| format!("{} {} {}\n", r.port, r.pid, r.since)).collect();
    std::io::Seek::rewind(&mut file).map_err(TestnetError::io("writing the port registry"))?;
    file.set_len(0).map_err(TestnetError::io("writing the port registry"))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(TestnetError::io("writing the port registry"))?;
    Ok(ports)
}

/// The lowest port [`free_ports`] hands out.
const PORTS_FROM: u16 = 20_000;

/// The first port of the kernel's ephemeral range (32768 when it cannot be read).
pub fn ephemeral_floor() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// A port handed out by [`free_ports`]: to whom, and when (seconds since the epoch).
struct Reservation {
    port: u16,
    pid: u32,
    since: u64,
}

impl Reservation {
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.split_whitespace().map(str::parse::<u64>);
        let (port, pid, since) = (fields.next()?.ok()?, fields.next()?.ok()?, fields.next()?.ok()?);
        Some(Reservation { port: u16::try_from(port).ok()?, pid: u32::try_from(pid).ok()?, since })
    }

    /// Whether the port is still spoken for at `now`.
    fn holds(&self, now: u64) -> bool {
        let age = now.saturating_sub(self.since);
        age < 600 || (age < 3600 && is_alive(self.pid))
    }
}

/// An exclusive flock(2) on a file, released when dropped.
struct FileLock(libc::c_int);

impl FileLock {
    fn exclusive(file: &std::fs::File) -> std::io::Result<Self> {
        use std::os::fd::AsRawFd;
        let fd = file.as_raw_fd();
        // SAFETY: flock(2) on a descriptor this function's caller keeps open for the lock's life.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(FileLock(fd))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: as above; the descriptor is still open (the lock is dropped before its file).
        unsafe {
            libc::flock(self.0, libc::LOCK_UN);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Ports released by their finder are not found again by the next caller, and none comes from
    /// the kernel's ephemeral range (before, each call asked the kernel for port 0: a port from
    /// that range, which any later `bind(0)` or outgoing connection could take before the service
    /// bound it).
    #[test]
    fn ports_handed_out_are_not_handed_out_again_and_lie_below_the_ephemeral_range() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            for port in free_ports(2).unwrap() {
                assert!(port >= PORTS_FROM && port < ephemeral_floor(), "port {port}");
                assert!(seen.insert(port), "port {port} handed out twice");
            }
        }
        let registry = std::fs::read_to_string(std::env::temp_dir().join("arena-ports.registry")).unwrap();
        let mine = format!(" {} ", std::process::id());
        assert!(registry.lines().filter(|l| l.contains(&mine)).count() >= 200);
    }
}
