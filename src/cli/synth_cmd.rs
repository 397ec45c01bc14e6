//! `huntbench synth`: renders a scenario into an EVTX file with our writer.

use super::SynthArgs;
use crate::synth;
use std::process::ExitCode;

pub fn run(args: &SynthArgs) -> anyhow::Result<ExitCode> {
    if let (Some(scenario), None) = (&args.scenario, &args.output) {
        anyhow::bail!("--scenario {scenario} needs -o FILE.evtx, the file to write");
    }
    let (Some(scenario), Some(out)) = (&args.scenario, &args.output) else {
        for s in synth::list_scenarios() {
            println!("{:<24} {:>4} events  {}", s.name, s.events, s.title);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let summary = synth::render_scenario(scenario, out)?;
    eprintln!(
        "{}: {} events in {} chunk(s), {} bytes, records {}..{}",
        summary.out_path.display(),
        summary.events,
        summary.chunks,
        summary.bytes,
        summary.first_record_id,
        summary.last_record_id
    );
    Ok(ExitCode::SUCCESS)
}
