//! What `awsguard run` keeps in its home directory (`$AWSGUARD_HOME`, `./certs`, or `--ca-dir`):
//! the daily events files under `events/`, the combined CA bundle, and the state file that tells
//! `awsguard env` where the running proxy listens.
//!
//! Called by `cli::run` and `cli::env`. The file names and the state's JSON keys are a contract
//! (README): scripts read them.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// Daily events files kept; older ones are deleted when a new day's file is opened.
pub(crate) const KEEP_DAYS: usize = 14;
/// The state file's name in the home directory.
pub(crate) const STATE_FILE: &str = "awsguard-state.json";
/// The combined bundle (system roots + awsguard CA) written by `run`.
pub(crate) const BUNDLE_FILE: &str = "awsguard-bundle.pem";
/// Largest state file read; a real one is a few hundred bytes.
const MAX_STATE_BYTES: u64 = 64 * 1024;

/// The events file of `day`: `events/awsguard-YYYY-MM-DD.jsonl`.
pub(crate) fn daily_path(home: &Path, day: Date) -> PathBuf {
    home.join("events").join(format!(
        "awsguard-{:04}-{:02}-{:02}.jsonl",
        day.year(),
        u8::from(day.month()),
        day.day()
    ))
}

/// Whether `name` is one of our daily files (so pruning never touches anything else).
fn is_daily_name(name: &str) -> bool {
    let Some(date) = name
        .strip_prefix("awsguard-")
        .and_then(|n| n.strip_suffix(".jsonl"))
    else {
        return false;
    };
    date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| {
            matches!(i, 4 | 7) && b == b'-' || !matches!(i, 4 | 7) && b.is_ascii_digit()
        })
}

/// Deletes all but the newest [`KEEP_DAYS`] daily files in `dir`. Names sort by date.
pub(crate) fn prune(dir: &Path) -> std::io::Result<usize> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_daily_name(n))
        .collect();
    names.sort_unstable();
    let excess = names.len().saturating_sub(KEEP_DAYS);
    for name in &names[..excess] {
        std::fs::remove_file(dir.join(name))?;
    }
    Ok(excess)
}

/// An append-only writer that switches to a new day's file at midnight UTC and prunes old ones.
/// The recorder writes to it in batches (every 50 ms at most), so checking the date on each
/// write costs nothing noticeable.
pub(crate) struct DailyFile {
    home: PathBuf,
    day: Date,
    file: std::fs::File,
}

impl DailyFile {
    /// Opens today's file (creating `events/`), pruning old files.
    pub(crate) fn open(home: &Path) -> std::io::Result<(DailyFile, PathBuf)> {
        let day = OffsetDateTime::now_utc().date();
        let (file, path) = open_day(home, day)?;
        Ok((
            DailyFile {
                home: home.to_path_buf(),
                day,
                file,
            },
            path,
        ))
    }
}

fn open_day(home: &Path, day: Date) -> std::io::Result<(std::fs::File, PathBuf)> {
    let path = daily_path(home, day);
    let dir = home.join("events");
    std::fs::create_dir_all(&dir)?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    if let Err(error) = prune(&dir) {
        tracing::warn!(%error, "cannot prune old events files");
    }
    Ok((file, path))
}

impl Write for DailyFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let today = OffsetDateTime::now_utc().date();
        if today != self.day {
            let (file, _) = open_day(&self.home, today)?;
            self.file = file;
            self.day = today;
        }
        self.file.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// What a running `awsguard run` tells other commands (`env`, scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct State {
    /// The address the proxy is bound to.
    pub(crate) listen: SocketAddr,
    /// The awsguard CA certificate (PEM), absolute.
    pub(crate) ca_cert: PathBuf,
    /// System roots + the awsguard CA (PEM), absolute: the value for `AWS_CA_BUNDLE`.
    pub(crate) ca_bundle: PathBuf,
    /// The proxy's process id.
    pub(crate) pid: u32,
    /// Where events go, when they go to a file.
    pub(crate) events: Option<PathBuf>,
    /// What that file holds (`exec --attach` reads it back).
    #[serde(default)]
    pub(crate) events_format: awsguard::export::EventsFormat,
}

impl State {
    /// Writes the state file atomically (a temporary file renamed over it), so a reader never
    /// sees half a file.
    pub(crate) fn write(&self, home: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut tmp = tempfile::NamedTempFile::new_in(home)?;
        tmp.write_all(&text)?;
        tmp.persist(home.join(STATE_FILE))
            .map_err(|e| e.error)
            .map(|_| ())
    }

    /// Reads the state file; `Ok(None)` when there is none.
    pub(crate) fn read(home: &Path) -> anyhow::Result<Option<State>> {
        use std::io::Read;
        let path = home.join(STATE_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let mut text = Vec::new();
        file.take(MAX_STATE_BYTES).read_to_end(&mut text)?;
        Ok(Some(serde_json::from_slice(&text).map_err(|e| {
            anyhow::anyhow!("{} is not an awsguard state file: {e}", path.display())
        })?))
    }

    /// Whether the process that wrote the state is still alive.
    pub(crate) fn is_running(&self) -> bool {
        i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|pid| {
                !matches!(
                    rustix::process::test_kill_process(pid),
                    Err(rustix::io::Errno::SRCH)
                )
            })
    }

    /// Removes the state file if it is still ours (another `run` may have replaced it).
    pub(crate) fn remove_if_ours(home: &Path) {
        if let Ok(Some(state)) = State::read(home) {
            if state.pid == std::process::id() {
                let _ = std::fs::remove_file(home.join(STATE_FILE));
            }
        }
    }

    /// The lines to `eval` in a shell: proxy in both cases, the combined bundle for AWS tools.
    pub(crate) fn export_lines(&self) -> String {
        export_lines(self.listen, &self.ca_bundle)
    }
}

/// Export lines for a proxy at `listen` with the combined bundle at `bundle`.
pub(crate) fn export_lines(listen: SocketAddr, bundle: &Path) -> String {
    let proxy = format!("http://{listen}");
    format!(
        "export HTTPS_PROXY={proxy}\nexport https_proxy={proxy}\nexport AWS_CA_BUNDLE={}\n",
        bundle.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn daily_names_sort_by_date_and_only_ours_are_pruned() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("events");
        std::fs::create_dir_all(&dir).unwrap();
        let mut day = date!(2026 - 01 - 01);
        for _ in 0..(KEEP_DAYS + 3) {
            std::fs::write(daily_path(home.path(), day), b"{}\n").unwrap();
            day = day.next_day().unwrap();
        }
        std::fs::write(dir.join("mine.jsonl"), b"").unwrap();
        std::fs::write(dir.join("awsguard-2020-1-01.jsonl"), b"").unwrap();
        assert_eq!(prune(&dir).unwrap(), 3);
        assert!(!daily_path(home.path(), date!(2026 - 01 - 03)).exists());
        assert!(daily_path(home.path(), date!(2026 - 01 - 04)).exists());
        assert!(dir.join("mine.jsonl").exists());
        assert!(dir.join("awsguard-2020-1-01.jsonl").exists());
        assert_eq!(
            daily_path(Path::new("/h"), date!(2026 - 12 - 05)),
            Path::new("/h/events/awsguard-2026-12-05.jsonl")
        );
    }

    #[test]
    fn state_round_trips_and_knows_its_process_is_alive() {
        let home = tempfile::tempdir().unwrap();
        assert_eq!(State::read(home.path()).unwrap(), None);
        let state = State {
            listen: "127.0.0.1:18080".parse().unwrap(),
            ca_cert: "/h/awsguard-ca.pem".into(),
            ca_bundle: "/h/awsguard-bundle.pem".into(),
            pid: std::process::id(),
            events: None,
            events_format: awsguard::export::EventsFormat::CloudTrail,
        };
        state.write(home.path()).unwrap();
        let read = State::read(home.path()).unwrap().unwrap();
        assert_eq!(read, state);
        assert!(read.is_running());
        assert_eq!(
            read.export_lines(),
            "export HTTPS_PROXY=http://127.0.0.1:18080\nexport https_proxy=http://127.0.0.1:18080\n\
             export AWS_CA_BUNDLE=/h/awsguard-bundle.pem\n"
        );
        State::remove_if_ours(home.path());
        assert_eq!(State::read(home.path()).unwrap(), None);
    }
}
