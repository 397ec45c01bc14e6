//! Rules over the indexed corpus: the index-backed run equals a brute-force exact scan for every
//! SigmaHQ Windows rule and every bundled rule, and the seed detections fire on the real attack
//! samples that contain their activity.

#![allow(clippy::unwrap_used)]

mod common;

use huntbench::hunt;
use huntbench::index::{Case, IngestOptions, Snapshot};
use huntbench::sigma::CompiledRule;
use huntbench::store::EventStore as _;
use std::collections::BTreeMap;

fn corpus_case() -> Option<(tempfile::TempDir, Case)> {
    let corpus = common::corpus_dir()?;
    let tmp = tempfile::tempdir().unwrap();
    let mut case = Case::open_or_create(tmp.path()).unwrap();
    case.ingest(&[corpus], &IngestOptions::default(), &mut |_| {})
        .unwrap();
    Some((tmp, case))
}

/// Hits per rule title and source file name.
fn hits_by_file(
    case: &Case,
    snap: &Snapshot,
    rules: &[&CompiledRule],
) -> BTreeMap<(String, String), usize> {
    let result = hunt::run(snap, rules).unwrap();
    let paths = case.manifest().unwrap().first_paths();
    let mut out = BTreeMap::new();
    for (rule, hits) in rules.iter().zip(&result.hits) {
        for r in hits {
            let (_, file) = snap.event(*r).unwrap();
            let path = &paths[&file];
            let name = path.rsplit(['/', '\\']).next().unwrap().to_owned();
            *out.entry((rule.meta.id.clone().unwrap_or_default(), name))
                .or_default() += 1;
        }
    }
    out
}

#[test]
fn index_run_equals_brute_force_for_all_sigmahq_windows_rules() {
    let Some((_tmp, case)) = corpus_case() else {
        return;
    };
    let shared = common::shared_dir().unwrap().join("sigma");
    let paths: Vec<_> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|d| shared.join(d))
        .collect();
    let (set, errors) = huntbench::rulepack::load(&paths, false).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        set.rules.len() > 2800,
        "only {} rules loaded",
        set.rules.len()
    );
    let rules: Vec<&CompiledRule> = set.rules.iter().collect();
    let snap = case.snapshot();
    let fast = hunt::run(&snap, &rules).unwrap();
    let truth = hunt::brute_force(&snap, &rules).unwrap();
    let mut differing = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        if fast.hits[i] != truth[i] {
            differing.push(format!(
                "{} ({}): index {} vs exact {}",
                rule.title(),
                rule.meta.origin,
                fast.hits[i].len(),
                truth[i].len()
            ));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
    let total: usize = truth.iter().map(Vec::len).sum();
    assert!(
        total > 1000,
        "the corpus should trigger many rules, got {total} hits"
    );
    // The prefilter must narrow: far fewer candidates than rules × events.
    assert!(fast.candidates < snap.num_events() * 20);
}

#[test]
fn seed_detections_fire_on_the_real_attack_samples() {
    let Some((_tmp, case)) = corpus_case() else {
        return;
    };
    let (set, _) = huntbench::rulepack::load(&[], false).unwrap();
    assert!(set.errors.is_empty() && set.unsupported.is_empty());
    let rules: Vec<&CompiledRule> = set.rules.iter().collect();
    let snap = case.snapshot();
    let hits = hits_by_file(&case, &snap, &rules);
    let expect = [
        // Renamed PsExec service seen through Security 5145 on IPC$.
        (
            "39f5c709-6109-454f-b5a7-4ac73af8334e",
            "LM_renamed_psexecsvc_5145.evtx",
            1,
        ),
        // Impacket wmiexec cmd.exe /Q /c … \\127.0.0.1\ (Sysmon EID 1).
        (
            "8a255457-85a1-4624-8397-55fbe8cad036",
            "LM_wmiexec_impacket_sysmon_whoami.evtx",
            3,
        ),
        // WmiPrvSE.exe children on Sysmon EID 1 and on Security 4688.
        (
            "dae3a3ff-1037-4242-b39e-623e8780f939",
            "LM_wmiexec_impacket_sysmon_whoami.evtx",
            3,
        ),
        (
            "dae3a3ff-1037-4242-b39e-623e8780f939",
            "NTLM2SelfRelay-med0x2e-security_4624_4688.evtx",
            1,
        ),
        // PSEXESVC.exe as a process (rule written with 4688 names, matched on Sysmon).
        (
            "69fbd65f-8262-40f5-a995-5b5e02c87330",
            "sysmon_privesc_psexec_dwell.evtx",
            1,
        ),
        // PsExec-like named pipes.
        (
            "522eff75-d462-4e04-8a9d-4c0e9cb81691",
            "DE_renamed_psexec_service_sysmon_17_18.evtx",
            1,
        ),
        // WMI event consumers.
        (
            "62b58a78-1b77-47ab-b50f-7de43a3a44ee",
            "sysmon_20_21_1_CommandLineEventConsumer.evtx",
            1,
        ),
    ];
    let mut missing = Vec::new();
    for (id, file, min) in expect {
        let n = hits
            .get(&(id.to_owned(), file.to_owned()))
            .copied()
            .unwrap_or(0);
        if n < min {
            missing.push(format!(
                "{id} on {file}: {n} hit(s), expected at least {min}"
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{}\nall hits: {hits:#?}",
        missing.join("\n")
    );
    // The corpus holds no smbexec and no default-named PsExec pipe over IPC$, and its one 4697
    // is an RDP-hijack service: these rules must stay silent on all of it (real-log false
    // positives), while the wmiexec rule above still fires on its sample.
    let silent = [
        "d696adf0-e3e1-43d6-b191-dee6698bc6a6", // Impacket smbexec service command shell
        "0e219f01-68d4-4975-a21f-96e3e4f7205b", // Impacket smbexec service installed (7045)
        "d7f6ed74-ecdd-415a-95d6-656aca8b07cf", // Impacket smbexec service installed (4697)
        "0afd8e18-6ff6-4631-bb9f-7bcc61ce4b10", // PsExec service installed (4697)
        "5c7f3523-7b5a-4f05-b986-e9db8c42dc41", // service binary in C:\Windows (4697)
        "09418fac-3f45-4830-a7f3-6af13d0e9529", // default PsExec pipes over IPC$
    ];
    let noisy: Vec<_> = hits
        .iter()
        .filter(|((id, _), _)| silent.contains(&id.as_str()))
        .collect();
    assert!(noisy.is_empty(), "unexpected hits: {noisy:?}");
}
