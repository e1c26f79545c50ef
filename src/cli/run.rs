//! `awsguard run` and `awsguard env`: the foreground proxy with its live console, daily events
//! file and state file, and the export lines for whichever proxy is running.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use awsguard::ca::{self, Ca};
use awsguard::config::{Config, EventsTarget};
use awsguard::events::Recorder;
use awsguard::exec::bundle;
use awsguard::export::EventsFormat;
use awsguard::proxy::Proxy;

use super::absolute;
use super::home::{self, DailyFile, State};
use super::live::{Console, Style};

/// `run --parquet`: where the Parquet files go, when the feature is built in.
#[cfg(feature = "parquet")]
pub(crate) type Lake = Option<awsguard::export::lake::LakeLayout>;
#[cfg(not(feature = "parquet"))]
pub(crate) type Lake = Option<std::convert::Infallible>;

/// Runs the proxy until Ctrl-C or SIGTERM, then prints the summary.
pub(crate) async fn run(
    config: Config,
    quiet: bool,
    format: EventsFormat,
    lake: Lake,
) -> anyhow::Result<()> {
    let home = absolute(&config.ca_dir);
    let ca = Ca::load_or_init_with(
        &config.ca_dir,
        &ca::default_permitted(&[]),
        time::OffsetDateTime::now_utc(),
        config.ca_policy(),
    )?;
    let ca_cert = absolute(&ca.paths().cert);
    let ca_bundle = write_bundle(&home, &ca).unwrap_or_else(|error| {
        tracing::warn!(
            "cannot write the combined CA bundle ({error:#}); AWS_CA_BUNDLE names the CA alone"
        );
        ca_cert.clone()
    });
    let (writer, events) = open_events(&config, &home)?;
    let console = Arc::new(Console::new(Style::detect(), quiet, events.clone()));
    #[cfg(feature = "parquet")]
    let lake = lake.map(awsguard::export::lake::LakeSink::new);
    #[cfg(feature = "parquet")]
    let console_observer = {
        let console = console.clone();
        let lake = lake.as_ref().map(|sink| sink.observer());
        Arc::new(move |event: &awsguard::events::Event| {
            console.observe(event);
            if let Some(lake) = &lake {
                lake(event);
            }
        })
    };
    #[cfg(not(feature = "parquet"))]
    let console_observer = {
        let _ = lake;
        let console = console.clone();
        Arc::new(move |event: &awsguard::events::Event| console.observe(event))
    };
    let observer = console_observer;
    let recorder = match format {
        EventsFormat::CloudTrail => Recorder::none()
            .with_writer(writer)?
            .with_observer(observer),
        EventsFormat::Ocsf => {
            let ocsf = awsguard::export::ocsf_writer(writer);
            Recorder::none().with_observer(Arc::new(move |event| {
                ocsf(event);
                observer(event);
            }))
        }
    };
    let policy = format!(
        "{} mode, minimum {}, FIPS {}",
        format!("{:?}", config.mode).to_lowercase(),
        config.min_tls.name(),
        format!("{:?}", config.fips).to_lowercase()
    );
    let proxy = Proxy::bind(config, ca, recorder.clone()).await?;
    let listen = proxy.local_addr()?;
    let state = State {
        listen,
        ca_cert,
        ca_bundle,
        pid: std::process::id(),
        events: events.clone(),
        events_format: format,
    };
    if let Err(error) = state.write(&home) {
        tracing::warn!(%error, "cannot write the state file; `awsguard env` will not find this proxy");
    }
    let mut banner = format!("awsguard listening on {listen} ({policy})\n");
    match &events {
        Some(path) => banner.push_str(&format!("events  {}\n", path.display())),
        None => banner.push_str("events  standard output\n"),
    }
    #[cfg(feature = "parquet")]
    if let Some(lake) = &lake {
        banner.push_str(&format!(
            "parquet {} (at stop and every {} records)\n",
            absolute(&lake.layout().dir).display(),
            awsguard::export::lake::MAX_PENDING
        ));
    }
    banner.push_str("point clients at it (or: eval \"$(awsguard env)\"):\n");
    banner.push_str(&state.export_lines());
    let _ = std::io::stderr().write_all(banner.as_bytes());
    proxy.run(shutdown_signal()).await;
    recorder.flush();
    State::remove_if_ours(&home);
    #[cfg(feature = "parquet")]
    if let Some(lake) = &lake {
        match lake.finish() {
            Ok(files) => eprintln!("awsguard: wrote {} Parquet files", files.len()),
            Err(error) => eprintln!("awsguard: error: cannot write Parquet: {error}"),
        }
    }
    let _ = std::io::stderr().write_all(console.summary().as_bytes());
    Ok(())
}

/// Writes `home/awsguard-bundle.pem` (system roots + the CA) atomically, so a client reading it
/// while another `run` starts never sees half a bundle.
fn write_bundle(home: &Path, ca: &Ca) -> anyhow::Result<PathBuf> {
    let pem = bundle::bundle_pem(&bundle::system_roots()?, ca.cert_der());
    let path = home.join(home::BUNDLE_FILE);
    let mut tmp = tempfile::NamedTempFile::new_in(home)?;
    tmp.write_all(pem.as_bytes())?;
    tmp.persist(&path)?;
    Ok(path)
}

/// Where events go: `--events` (a file opened for append, or stdout), or the daily file under
/// `home/events/` when none is given.
fn open_events(
    config: &Config,
    home: &Path,
) -> anyhow::Result<(Box<dyn std::io::Write + Send>, Option<PathBuf>)> {
    Ok(match &config.events {
        Some(EventsTarget::Stdout) => (Box::new(std::io::stdout()), None),
        Some(EventsTarget::File(path)) => (
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("cannot open events file {}", path.display()))?,
            ),
            Some(absolute(path)),
        ),
        None => {
            let (file, path) = DailyFile::open(home)
                .with_context(|| format!("cannot open the events file under {}", home.display()))?;
            (Box::new(file), Some(path))
        }
    })
}

/// The export lines of the running proxy whose home is `home`; `listen` overrides its address.
pub(crate) fn env(home: &Path, listen: Option<std::net::SocketAddr>) -> anyhow::Result<String> {
    let home = absolute(home);
    match State::read(&home)? {
        Some(state) if state.is_running() => Ok(home::export_lines(
            listen.unwrap_or(state.listen),
            &state.ca_bundle,
        )),
        _ => anyhow::bail!(
            "no awsguard proxy is running with home {} (start one with `awsguard run`, or pass \
             --ca-dir for a proxy started with another home)",
            home.display()
        ),
    }
}

/// The running proxy whose home is `home`, for `exec --attach`: it must write CloudTrail-shaped
/// events to a file, which is where the attached command's calls are read back from.
pub(crate) fn attach_target(home: &Path) -> anyhow::Result<awsguard::exec::Attach> {
    let home = absolute(home);
    let state = match State::read(&home)? {
        Some(state) if state.is_running() => state,
        _ => anyhow::bail!(
            "exec --attach: no awsguard proxy is running with home {} (start one with `awsguard \
             run`, or pass --ca-dir)",
            home.display()
        ),
    };
    let Some(events) = state.events else {
        anyhow::bail!(
            "exec --attach: the running proxy writes its events to standard output; attach needs \
             them in a file (run it without `--events -`)"
        );
    };
    anyhow::ensure!(
        state.events_format == EventsFormat::CloudTrail,
        "exec --attach: the running proxy writes OCSF; attach reads CloudTrail-shaped events \
         (run it without --events-format ocsf)"
    );
    Ok(awsguard::exec::Attach {
        listen: state.listen,
        bundle: state.ca_bundle,
        events,
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let ctrl_c = tokio::signal::ctrl_c();
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
