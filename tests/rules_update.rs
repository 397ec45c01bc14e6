//! `huntbench rules update` as a user runs it, without the internet: archives are served by
//! `scripts/serve-http` (Python's http.server on 127.0.0.1, stopped by its PID) or given with
//! `--from`; the installed rules then load by default in `scan` and `rules check`.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_huntbench");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn huntbench(config: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("HUNTBENCH_CONFIG_DIR", config);
    // The server is on loopback: a proxy in the environment must not be asked for it.
    for var in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY"] {
        cmd.env_remove(var).env_remove(var.to_lowercase());
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `scripts/serve-http` serving `dir`; stopped by its PID when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// None (with the reason printed) when python3 is missing outside CI.
    fn start(dir: &Path, cut_after: Option<usize>) -> Option<Server> {
        let python = Command::new("python3").arg("--version").output();
        if !python.is_ok_and(|o| o.status.success()) {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 is required under CI=true for the loopback HTTP server"
            );
            eprintln!("skipped: python3 not found (serves the archive on 127.0.0.1)");
            return None;
        }
        let mut cmd = Command::new("python3");
        cmd.arg(root().join("scripts/serve-http")).arg(dir);
        if let Some(n) = cut_after {
            cmd.args(["--cut-after", &n.to_string()]);
        }
        let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {line:?}"))
                .to_owned()
        };
        assert_eq!(field("pid=").parse::<u32>().unwrap(), child.id());
        let port = field("port=").parse().unwrap();
        Some(Server { child, port })
    }

    fn url(&self, file: &str) -> String {
        format!("http://127.0.0.1:{}/{file}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a zip (deflated, as SigmaHQ's) of the files under `src`'s `trees` (paths relative
/// to it), each under `prefix`.
fn zip_dir(src: &Path, trees: &[&str], prefix: &str, out: &Path) {
    zip_with(src, trees, prefix, out, zip::CompressionMethod::Deflated);
}

fn zip_with(src: &Path, trees: &[&str], prefix: &str, out: &Path, method: zip::CompressionMethod) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(out).unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    let mut stack: Vec<PathBuf> = trees.iter().map(|t| src.join(t)).collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.is_file() {
            let rel = p
                .strip_prefix(src)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/");
            zip.start_file(format!("{prefix}{rel}"), opts).unwrap();
            zip.write_all(&std::fs::read(&p).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap();
}

const WIN_RULE: &str = "title: Tiny Upstream Rule TITLE\nid: 11111111-0000-0000-0000-00000000000NUM\nstatus: test\ndate: 2024-05-01\nmodified: 2024-06-30\nlevel: high\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '\\wmic.exe'\n    condition: sel\n";
const LINUX_RULE: &str = "title: Tiny Linux Rule\nid: 22222222-0000-0000-0000-000000000000\nlevel: high\nlogsource:\n    product: linux\n    category: process_creation\ndetection:\n    sel:\n        Image|endswith: '/bash'\n    condition: sel\n";

/// A small SigmaHQ-shaped tree: Windows rules named `title`, a Linux rule, an emerging
/// threat, and (when `broken`) a file that does not parse.
fn tiny_tree(dir: &Path, title: &str, broken: bool) {
    let put = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let rule = |n: u8| {
        WIN_RULE
            .replace("TITLE", &format!("{title} {n}"))
            .replace("NUM", &n.to_string())
    };
    put("rules/windows/process_creation/a.yml", &rule(1));
    put("rules-emerging-threats/2024/Malware/b.yml", &rule(2));
    put("rules/linux/c.yml", LINUX_RULE);
    put("rules-threat-hunting/windows/d.yml", &rule(3));
    put("LICENSE", "Detection Rule License\n");
    if broken {
        put(
            "rules/windows/broken.yml",
            "title: Broken\ndetection: [unclosed\n",
        );
    }
}

/// The `rules: …` summary line of `rules check`.
fn check_summary(config: &Path) -> (String, String) {
    let out = huntbench(config, &["rules", "check", "--all"]);
    let (stdout, _) = text(&out);
    let line = (stdout.lines())
        .find(|l| l.starts_with("rules: "))
        .unwrap_or_else(|| panic!("no summary in {stdout}"))
        .to_owned();
    (line, stdout)
}

#[test]
fn a_release_served_on_loopback_installs_and_loads_by_default_in_scan_and_rules_check() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    zip_dir(
        &shared.join("sigma"),
        &[
            "rules",
            "rules-emerging-threats",
            "rules-threat-hunting",
            "rules-placeholder",
        ],
        "",
        &www.join("sigma_all_rules.zip"),
    );
    let Some(server) = Server::start(&www, None) else {
        return;
    };
    let config = dir.path().join("config");
    let out = huntbench(
        &config,
        &[
            "rules",
            "update",
            "--url",
            &server.url("sigma_all_rules.zip"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("installed SigmaHQ rules of "), "{stdout}");
    let release: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config.join("sigma/release.json")).unwrap())
            .unwrap();
    let default_rules = release["default_rules"].as_u64().unwrap();
    assert!(default_rules > 2000, "{release}");
    assert_eq!(release["source"], server.url("sigma_all_rules.zip"));
    drop(server);

    // `rules check` loads them beside the bundled pack, with no list of upstream's
    // non-Windows rules.
    let (line, stdout) = check_summary(&config);
    assert!(
        line.contains(&format!("{default_rules} from SigmaHQ rules of ")),
        "{line}"
    );
    assert!(
        !stdout.lines().any(|l| l.starts_with("skipped")),
        "{stdout}"
    );

    // `scan` runs them by default and says so; --no-default-rules leaves them out.
    let case = dir.path().join("case");
    let samples = root().join("samples");
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--format",
            "jsonl",
            "--case",
            case.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        args.push(samples.to_str().unwrap());
        let out = huntbench(&config, &args);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{stderr}");
        (stdout, stderr)
    };
    let (hits, stderr) = scan(&[]);
    assert!(
        stderr.contains(&format!("{default_rules} from SigmaHQ")),
        "{stderr}"
    );
    let (bundled_hits, bare) = scan(&["--no-default-rules", "--rules", "rules"]);
    assert!(!bare.contains("from SigmaHQ"), "{bare}");
    assert!(hits.lines().count() > bundled_hits.lines().count());
    assert!(hits.contains("\"rule_id\""));
}

#[test]
fn from_a_zip_then_a_folder_replaces_the_release_and_names_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let first = dir.path().join("first");
    tiny_tree(&first, "First", true);
    let archive = dir.path().join("sigma-r2024-07-01.zip");
    zip_dir(
        &first,
        &[
            "rules",
            "rules-emerging-threats",
            "rules-threat-hunting",
            "LICENSE",
        ],
        "sigma-r2024-07-01/",
        &archive,
    );
    let out = huntbench(
        &config,
        &["rules", "update", "--from", archive.to_str().unwrap()],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The repository archive's folder names the release; the broken file is named by
    // file:line:column and does not fail the update.
    assert!(stdout.contains("installed SigmaHQ r2024-07-01"), "{stdout}");
    assert!(stdout.contains("3 rules load by default"), "{stdout}");
    let at = stderr
        .split("broken upstream rule (not loaded): rules/windows/broken.yml:")
        .nth(1)
        .unwrap_or_else(|| panic!("{stderr}"));
    let mut line_col = at.split(':').take(2).map(|n| n.parse::<usize>());
    assert!(line_col.all(|n| n.is_ok()), "file:line:column in {stderr}");
    let (line, listing) = check_summary(&config);
    assert!(line.contains("3 from SigmaHQ r2024-07-01"), "{line}");
    assert!(
        listing.contains("First 1") && listing.contains("First 3"),
        "{listing}"
    );
    assert!(!listing.contains("Tiny Linux Rule"), "{listing}");
    let sigma = config.join("sigma");
    let folders = |sigma: &Path| -> Vec<String> {
        (std::fs::read_dir(sigma).unwrap())
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "release.json")
            .collect()
    };
    assert_eq!(folders(&sigma).len(), 1, "{:?}", folders(&sigma));

    // A checkout folder replaces it whole; the old folder goes; no tag: the newest rule's date.
    let second = dir.path().join("second");
    tiny_tree(&second, "Second", false);
    let out = huntbench(
        &config,
        &["rules", "update", "--from", second.to_str().unwrap()],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("installed SigmaHQ rules of 2024-06-30"),
        "{stdout}"
    );
    assert!(stderr.contains("replaced SigmaHQ r2024-07-01"), "{stderr}");
    let (line, listing) = check_summary(&config);
    assert!(
        line.contains("3 from SigmaHQ rules of 2024-06-30"),
        "{line}"
    );
    assert!(
        listing.contains("Second 1") && !listing.contains("First 1"),
        "{listing}"
    );
    assert_eq!(folders(&sigma).len(), 1, "{:?}", folders(&sigma));
    assert!(check_rules_ok(&config));
}

fn check_rules_ok(config: &Path) -> bool {
    huntbench(config, &["rules", "check"]).status.success()
}

/// Installs the tiny tree as the current release; returns its `release.json`.
fn install_first(dir: &Path, config: &Path) -> String {
    let first = dir.join("first");
    tiny_tree(&first, "First", false);
    let out = huntbench(
        config,
        &["rules", "update", "--from", first.to_str().unwrap()],
    );
    assert!(out.status.success(), "{:?}", text(&out));
    std::fs::read_to_string(config.join("sigma/release.json")).unwrap()
}

/// After a failed update: the error says the installed rules are unchanged, they are, they
/// still load, and nothing of the attempt is left.
fn assert_kept(out: &Output, config: &Path, before: &str, why: &str) {
    let (stdout, stderr) = text(out);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("the installed rules are unchanged"),
        "{stderr}"
    );
    assert!(stderr.contains(why), "{stderr}");
    let sigma = config.join("sigma");
    assert_eq!(
        std::fs::read_to_string(sigma.join("release.json")).unwrap(),
        before
    );
    let leftovers: Vec<String> = (std::fs::read_dir(&sigma).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let (line, listing) = check_summary(config);
    assert!(line.contains("3 from SigmaHQ"), "{line}");
    assert!(listing.contains("First 1"), "{listing}");
}

#[test]
fn a_corrupt_archive_keeps_the_installed_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let before = install_first(dir.path(), &config);
    let good = dir.path().join("good.zip");
    let second = dir.path().join("second");
    tiny_tree(&second, "Second", false);
    // Stored, so a byte of a rule can be changed in place below.
    zip_with(
        &second,
        &["rules", "rules-emerging-threats"],
        "",
        &good,
        zip::CompressionMethod::Stored,
    );
    let bytes = std::fs::read(&good).unwrap();

    // Cut short: no central directory.
    let cut = dir.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = huntbench(
        &config,
        &["rules", "update", "--from", cut.to_str().unwrap()],
    );
    assert_kept(&out, &config, &before, "not a readable zip archive");

    // A byte of a member's data changed: its checksum fails.
    let flipped = dir.path().join("flipped.zip");
    let mut damaged = bytes.clone();
    let at = bytes.windows(6).position(|w| w == b"title:").unwrap();
    damaged[at] ^= 0x20;
    std::fs::write(&flipped, &damaged).unwrap();
    let out = huntbench(
        &config,
        &["rules", "update", "--from", flipped.to_str().unwrap()],
    );
    assert_kept(&out, &config, &before, "is damaged");

    // A zip without SigmaHQ's folders is not a rule release.
    let other = dir.path().join("other.zip");
    zip_dir(&root(), &["samples/README.md"], "", &other);
    let out = huntbench(
        &config,
        &["rules", "update", "--from", other.to_str().unwrap()],
    );
    assert_kept(&out, &config, &before, "no Sigma rule files");
}

#[test]
fn an_interrupted_download_keeps_the_installed_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let before = install_first(dir.path(), &config);
    let www = dir.path().join("www");
    let second = dir.path().join("second");
    tiny_tree(&second, "Second", false);
    std::fs::create_dir_all(&www).unwrap();
    zip_dir(&second, &["rules"], "", &www.join("rules.zip"));
    let Some(server) = Server::start(&www, Some(200)) else {
        return;
    };
    let out = huntbench(
        &config,
        &["rules", "update", "--url", &server.url("rules.zip")],
    );
    assert_kept(&out, &config, &before, "broke off");
    // A missing file is an HTTP error, said as such.
    let out = huntbench(
        &config,
        &["rules", "update", "--url", &server.url("nope.zip")],
    );
    assert_kept(&out, &config, &before, "404");
}
