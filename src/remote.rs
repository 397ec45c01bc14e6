//! Spark Connect: the seam between huntbench and a Spark cluster (or any Spark Connect server,
//! such as Sail) holding a case exported with `huntbench export --format parquet`.
//!
//! Connects to `sc://HOST:PORT` (with an optional bearer token), registers a Parquet location
//! as a temporary view and runs SQL, returning Arrow record batches. Every call is bounded in
//! time: past its bound the server is asked to interrupt the session's running operations and
//! the caller gets [`RemoteError::TimedOut`], so a slow or vanished cluster never hangs us.
//!
//! Only this module names the client crate (`apache-spark-connect`, behind the `remote`
//! feature); its Arrow types are re-exported as [`arrow`].

// The client's error type is large (the client allows this lint itself); it is turned into
// text at this module's edge.
#![allow(clippy::result_large_err)]

mod cache;
mod case;
mod columns;
pub mod scan;
mod stack;
pub mod store;
pub mod table;

use spark_connect::{SparkSession, SparkSessionBuilder};
use std::time::Duration;

/// The Arrow version the client answers in (not the one `export` writes with).
pub use spark_arrow as arrow;
pub use spark_arrow::RecordBatch;

/// The environment variable holding a Spark Connect bearer token, used when the URL has none.
pub const TOKEN_ENV: &str = "HUNTBENCH_SPARK_TOKEN";

/// How long connecting (the first round trip, a one-row query) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("not a Spark Connect URL: {0} (expected sc://HOST:PORT)")]
    BadUrl(String),
    #[error("not a usable view name: {0:?} (letters, digits and _, not starting with a digit)")]
    BadViewName(String),
    #[error("cannot reach Spark Connect at {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{what} failed: {message}")]
    Failed { what: String, message: String },
    /// Interrupted on the server before it ended ([`Remote::interrupt`], Esc in the workbench).
    #[error("{what} was stopped on the server")]
    Stopped { what: String },
    #[error("{what} did not finish within {}s{}", .after.as_secs_f64(),
        if *.interrupted { " (interrupted on the server)" } else { "" })]
    TimedOut {
        what: String,
        after: Duration,
        interrupted: bool,
    },
}

/// A session on a Spark Connect server. Runs one call at a time: a timeout interrupts every
/// running operation of the session.
pub struct Remote {
    /// Replaced by [`Remote::renew`]: a client whose call timed out waits for the server to
    /// end that call before it sends another.
    session: std::sync::Mutex<SparkSession>,
    /// The URL connected to, token included (never shown).
    full_url: String,
    /// The URL as shown in messages: without its token.
    shown_url: String,
    /// Views registered, as (name, location): a renewed session registers them again.
    views: std::sync::Mutex<Vec<(String, String)>>,
}

impl Remote {
    /// Connects to `url` (`sc://HOST:PORT`, optionally `/;token=…` and other Spark Connect
    /// parameters), taking the token from [`TOKEN_ENV`] when the URL has none, and checks that
    /// the server answers. The client sends a token in clear only to a loopback address;
    /// elsewhere it needs `;use_ssl=true`.
    pub fn connect(url: &str) -> Result<Remote, RemoteError> {
        let token = std::env::var(TOKEN_ENV).ok().filter(|t| !t.is_empty());
        Remote::connect_with_token(url, token.as_deref())
    }

    /// As [`Remote::connect`] with the token given (ignored when the URL has its own).
    pub fn connect_with_token(url: &str, token: Option<&str>) -> Result<Remote, RemoteError> {
        let shown_url = without_token(url);
        if !url.starts_with("sc://") {
            return Err(RemoteError::BadUrl(shown_url));
        }
        let full_url = with_token(url, token)?;
        let session = open_session(&full_url, &shown_url)?;
        Ok(Remote {
            session: std::sync::Mutex::new(session),
            full_url,
            shown_url,
            views: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Replaces the session with a new one on the same server, with the same views, waiting
    /// at most `timeout` for the server. After a call timed out, this is how to go on: the
    /// old session's client waits for the server to end that call first, which a query stuck
    /// in a backtracking Java regex may not do for a long time.
    pub fn renew(&self, timeout: Duration) -> Result<(), RemoteError> {
        let fresh = open_session(&self.full_url, &self.shown_url)?;
        let views = self.views.lock().map(|v| v.clone()).unwrap_or_default();
        *self.session.lock().map_err(|_| poisoned())? = fresh;
        for (view, location) in views {
            self.register_parquet(&view, &location, timeout)?;
        }
        Ok(())
    }

    fn session(&self) -> Result<SparkSession, RemoteError> {
        Ok(self.session.lock().map_err(|_| poisoned())?.clone())
    }
}

fn poisoned() -> RemoteError {
    RemoteError::Failed {
        what: "the session".into(),
        message: "a thread panicked while it replaced the session".into(),
    }
}

/// A session on `full_url`, checked with a one-row query.
fn open_session(full_url: &str, shown_url: &str) -> Result<SparkSession, RemoteError> {
    {
        let shown_url = shown_url.to_owned();
        let session = SparkSessionBuilder::new()
            .remote(full_url)
            .get_or_create()
            .map_err(|e| RemoteError::Connect {
                url: shown_url.clone(),
                message: e.to_string(),
            })?;
        let probe = session.clone();
        // A query, not the version request: Sail answers that one only when a pyspark it
        // supports is installed beside it. Nothing runs yet that an interrupt could stop.
        bounded(None, "connecting", CONNECT_TIMEOUT, move || {
            probe.sql("SELECT 1")?.collect_record_batches()
        })
        .map_err(|e| match e {
            RemoteError::Failed { message, .. } => RemoteError::Connect {
                url: shown_url.clone(),
                message,
            },
            other => other,
        })?;
        Ok(session)
    }
}

impl Remote {
    /// The URL connected to, without its token.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// Registers the Parquet files at `location` (a directory `huntbench export` wrote, as
    /// the server sees it: a local path on a loopback cluster, otherwise a shared or object
    /// store location) as the temporary view `view`. Hive partition directories (`day=…`)
    /// become a column.
    pub fn register_parquet(
        &self,
        view: &str,
        location: &str,
        timeout: Duration,
    ) -> Result<(), RemoteError> {
        if !is_identifier(view) {
            return Err(RemoteError::BadViewName(view.to_owned()));
        }
        let (session, view_name, location) =
            (self.session()?, view.to_owned(), location.to_owned());
        if let Ok(mut views) = self.views.lock() {
            views.retain(|(v, _)| *v != view_name);
            views.push((view_name.clone(), location.clone()));
        }
        bounded(
            Some(&session.clone()),
            &format!("registering {location} as {view}"),
            timeout,
            move || {
                session
                    .read()
                    .parquet(&location)
                    .create_or_replace_temp_view(&view_name)
            },
        )
    }

    /// Asks the server to stop every operation running on this session (their callers get
    /// an error). True when the server answered.
    pub fn interrupt(&self) -> bool {
        self.session().is_ok_and(|session| interrupt(&session))
    }

    /// Runs `query` and returns every row, as Arrow record batches.
    pub fn sql(&self, query: &str, timeout: Duration) -> Result<Vec<RecordBatch>, RemoteError> {
        let (session, text) = (self.session()?, query.to_owned());
        let started = std::time::Instant::now();
        let answer = bounded(Some(&session.clone()), "the query", timeout, move || {
            session.sql(&text)?.collect_record_batches()
        });
        if let Some(log) = std::env::var_os(SQL_LOG_ENV) {
            log_query(std::path::Path::new(&log), query, started.elapsed());
        }
        answer
    }
}

/// When set, every query (the scan's and the workbench's) is appended to the file it names,
/// after a comment with how long it took: to see what ran, where the time went, or rerun it.
pub const SQL_LOG_ENV: &str = "HUNTBENCH_SQL_LOG";

fn log_query(path: &std::path::Path, query: &str, took: Duration) {
    use std::io::Write;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path);
    if let Ok(mut file) = file {
        // A log that cannot be written must not stop the work.
        let _ = writeln!(file, "-- {} ms\n{query};", took.as_millis());
    }
}

/// Runs `call` on a thread of its own and waits at most `timeout` for it; past that, asks the
/// server to interrupt the operations of `session` if given (the call then returns on its
/// thread, which is left to end by itself).
fn bounded<T: Send + 'static>(
    session: Option<&SparkSession>,
    what: &str,
    timeout: Duration,
    call: impl FnOnce() -> spark_connect::Result<T> + Send + 'static,
) -> Result<T, RemoteError> {
    let (send, receive) = crossbeam_channel::bounded(1);
    std::thread::Builder::new()
        .name("spark-connect".to_owned())
        .spawn(move || {
            // The receiver is gone only after a timeout, when nobody needs the answer.
            let _ = send.send(call());
        })
        .map_err(|e| RemoteError::Failed {
            what: what.to_owned(),
            message: format!("cannot start a thread: {e}"),
        })?;
    match receive.recv_timeout(timeout) {
        Ok(answer) => answer.map_err(|e| {
            let message = e.to_string();
            // Spark's error class for an operation interrupted on the server.
            match message.contains("OPERATION_CANCELED") {
                true => RemoteError::Stopped {
                    what: what.to_owned(),
                },
                false => RemoteError::Failed {
                    what: what.to_owned(),
                    message,
                },
            }
        }),
        Err(_) => Err(RemoteError::TimedOut {
            what: what.to_owned(),
            after: timeout,
            interrupted: session.is_some_and(interrupt),
        }),
    }
}

/// Asks the server to interrupt the session's operations, itself bounded (the server may be
/// the reason for the timeout). True when the server answered.
fn interrupt(session: &SparkSession) -> bool {
    let session = session.clone();
    let (send, receive) = crossbeam_channel::bounded(1);
    let spawned = std::thread::Builder::new()
        .name("spark-connect-interrupt".to_owned())
        .spawn(move || {
            let _ = send.send(session.interrupt_all().is_ok());
        });
    spawned.is_ok() && receive.recv_timeout(Duration::from_secs(10)) == Ok(true)
}

/// `url` with `token` added as its `token` parameter, unless it already has one.
fn with_token(url: &str, token: Option<&str>) -> Result<String, RemoteError> {
    let Some(token) = token else {
        return Ok(url.to_owned());
    };
    if url_params(url).any(|(key, _)| key == "token") {
        return Ok(url.to_owned());
    }
    if token.contains([';', '/']) || token.chars().any(char::is_whitespace) {
        return Err(RemoteError::BadUrl(format!(
            "{TOKEN_ENV} holds characters a Spark Connect URL cannot carry (';', '/', spaces)"
        )));
    }
    let separator = if url.contains("/;") || url.ends_with('/') {
        ";"
    } else {
        "/;"
    };
    Ok(format!("{url}{separator}token={token}"))
}

/// The `key=value` parameters after the URL's `/;`.
fn url_params(url: &str) -> impl Iterator<Item = (&str, &str)> {
    let params = url.split_once("/;").map_or("", |(_, p)| p);
    params
        .split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim(), v))
}

/// `url` with the value of any `token` parameter hidden, for messages.
fn without_token(url: &str) -> String {
    let Some((base, params)) = url.split_once("/;") else {
        return url.to_owned();
    };
    let params: Vec<String> = params
        .split(';')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.trim() == "token" => format!("{k}=…"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{base}/;{}", params.join(";"))
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_added_once_and_never_shown() {
        let url = "sc://127.0.0.1:15002";
        assert_eq!(with_token(url, None).unwrap(), url);
        let full = with_token(url, Some("s3cret")).unwrap();
        assert_eq!(full, "sc://127.0.0.1:15002/;token=s3cret");
        assert_eq!(
            with_token("sc://h:1/;user_id=a", Some("t")).unwrap(),
            "sc://h:1/;user_id=a;token=t"
        );
        // The URL's own token wins over the environment's.
        let own = "sc://h:1/;token=mine";
        assert_eq!(with_token(own, Some("env")).unwrap(), own);
        assert_eq!(without_token(&full), "sc://127.0.0.1:15002/;token=…");
        assert!(!without_token("sc://h:1/;user_id=a;token=x").contains('x'));
        assert!(with_token(url, Some("a;b")).is_err());
    }

    #[test]
    fn view_names_are_plain_identifiers() {
        assert!(is_identifier("events"));
        assert!(is_identifier("_case_2"));
        for bad in ["", "2x", "a-b", "a b", "x;drop", "`x`"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn a_url_that_is_not_spark_connect_is_refused_before_connecting() {
        let err = Remote::connect_with_token("http://127.0.0.1:1/;token=zzz", None)
            .err()
            .unwrap();
        assert!(matches!(err, RemoteError::BadUrl(_)), "{err}");
        assert!(!err.to_string().contains("zzz"), "{err}");
    }

    #[test]
    fn an_unreachable_server_is_a_clear_error_not_a_hang() {
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let started = std::time::Instant::now();
        let err = Remote::connect_with_token(&format!("sc://127.0.0.1:{port}"), None)
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                RemoteError::Connect { .. } | RemoteError::TimedOut { .. }
            ),
            "{err}"
        );
        assert!(started.elapsed() <= CONNECT_TIMEOUT + Duration::from_secs(15));
    }
}
