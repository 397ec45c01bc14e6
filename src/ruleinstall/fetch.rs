//! Downloading a rule archive over HTTP(S) into a file.

use anyhow::{Context, bail};
use std::io::Write;
use std::time::Duration;
use ureq::ResponseExt;

/// Larger than any SigmaHQ archive (tens of MB), small enough to stop a runaway server.
const MAX_ARCHIVE_BYTES: u64 = 1 << 30;

/// What a download gave besides the bytes written.
pub struct Fetched {
    /// The URL asked for and every URL redirected to, in order: a release tag shows in one.
    pub urls: Vec<String>,
    pub bytes: u64,
}

/// Writes the body of `url` into `out`. A transfer that ends before its announced length, an
/// HTTP error status or a timeout is an error; the caller discards what was written.
pub fn download(url: &str, out: &mut std::fs::File) -> anyhow::Result<Fetched> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // A stalled transfer fails rather than hangs; a slow one still completes.
        .timeout_per_read(Some(Duration::from_secs(60)))
        .save_redirect_history(true)
        .user_agent(concat!("huntbench/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("downloading {url}"))?;
    let urls: Vec<String> = match response.get_redirect_history() {
        Some(history) => history.iter().map(ToString::to_string).collect(),
        None => vec![url.to_owned(), response.get_uri().to_string()],
    };
    let announced = response.body().content_length();
    let mut reader = response
        .body_mut()
        .with_config()
        .limit(MAX_ARCHIVE_BYTES)
        .reader();
    let broke_off = |got: u64| match announced {
        Some(len) => {
            format!("downloading {url}: the transfer broke off after {got} of {len} bytes")
        }
        None => format!("downloading {url}: the transfer broke off after {got} bytes"),
    };
    let mut written = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = match std::io::Read::read(&mut reader, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| broke_off(written)),
        };
        out.write_all(&buf[..n])
            .context("writing the downloaded archive")?;
        written += n as u64;
    }
    if let Some(len) = announced
        && written != len
    {
        bail!(broke_off(written));
    }
    out.sync_all().context("writing the downloaded archive")?;
    Ok(Fetched {
        urls,
        bytes: written,
    })
}

/// A SigmaHQ release tag (`r2024-12-19`) named in a release-asset or tag-archive URL.
pub fn release_tag(urls: &[String]) -> Option<String> {
    urls.iter().find_map(|u| {
        let u = u.split(['?', '#']).next().unwrap_or(u);
        if let Some((_, rest)) = u.split_once("/releases/download/") {
            return rest.split('/').next().map(str::to_owned);
        }
        let (_, rest) = u.split_once("/archive/refs/tags/")?;
        rest.strip_suffix(".zip").map(str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_tags_are_read_from_asset_and_tag_archive_urls() {
        let hop = |s: &str| vec![s.to_owned()];
        assert_eq!(
            release_tag(&hop(
                "https://github.com/SigmaHQ/sigma/releases/download/r2024-12-19/sigma_all_rules.zip"
            ))
            .as_deref(),
            Some("r2024-12-19")
        );
        assert_eq!(
            release_tag(&hop(
                "https://github.com/SigmaHQ/sigma/archive/refs/tags/r2025-01-02.zip"
            ))
            .as_deref(),
            Some("r2025-01-02")
        );
        assert_eq!(release_tag(&hop("http://127.0.0.1:8000/sigma.zip")), None);
    }
}
