//! [`CpuProfile`]: sampled stacks, as folded lines and as a flamegraph.

use std::fmt::Write;
use std::time::Duration;

use crate::profiler::ProfileError;

/// What a CPU profile saw: how often each stack was on a CPU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuProfile {
    /// `thread;outermost;…;innermost` and its sample count, most samples first.
    stacks: Vec<(String, u64)>,
    duration: Duration,
    frequency: u32,
}

impl CpuProfile {
    pub(crate) fn from_report(report: &pprof::Report, duration: Duration, frequency: u32) -> Self {
        let mut stacks: Vec<(String, u64)> = report
            .data
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(frames, count)| {
                let mut line = frames.thread_name_or_id();
                // pprof lists the innermost frame first; folded stacks go outermost first.
                for symbol in frames.frames.iter().rev().flat_map(|inlined| inlined.iter().rev()) {
                    line.push(';');
                    // `;` separates frames and ` ` ends the stack in the folded format.
                    let _ = write!(line, "{}", symbol.name().replace([';', ' '], "_"));
                }
                (line, count.unsigned_abs() as u64)
            })
            .collect();
        stacks.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        CpuProfile { stacks, duration, frequency }
    }

    /// A profile of the given stacks (`thread;outermost;…;innermost`, count).
    pub fn from_stacks(mut stacks: Vec<(String, u64)>, duration: Duration, frequency: u32) -> Self {
        stacks.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        CpuProfile { stacks, duration, frequency }
    }

    /// The stacks and their sample counts, most samples first.
    pub fn stacks(&self) -> &[(String, u64)] {
        &self.stacks
    }

    /// The profile in pprof's protobuf format (uncompressed), for `go tool pprof` and other
    /// profile viewers.
    pub fn pprof(&self) -> Vec<u8> {
        crate::pprof_format::encode(self)
    }

    /// Samples taken.
    pub fn samples(&self) -> u64 {
        self.stacks.iter().map(|(_, n)| n).sum()
    }

    /// How long it sampled.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Samples per second it was taken at.
    pub fn frequency(&self) -> u32 {
        self.frequency
    }

    /// The stacks in the folded format (`frame;frame;frame count` per line), the input of most
    /// flamegraph tools.
    pub fn folded(&self) -> String {
        let mut out = String::new();
        for (stack, count) in &self.stacks {
            let _ = writeln!(out, "{stack} {count}");
        }
        out
    }

    /// Whether a sampled stack has a frame whose name contains `function`.
    pub fn contains(&self, function: &str) -> bool {
        self.stacks.iter().any(|(stack, _)| stack.split(';').any(|frame| frame.contains(function)))
    }

    /// The profile as a flamegraph SVG.
    pub fn flamegraph_svg(&self, title: &str) -> Result<Vec<u8>, ProfileError> {
        if self.stacks.is_empty() {
            return Err(ProfileError::NoSamples);
        }
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_owned();
        options.count_name = "samples".to_owned();
        let folded = self.folded();
        let mut svg = Vec::new();
        inferno::flamegraph::from_lines(&mut options, folded.lines(), &mut svg)
            .map_err(|e| ProfileError::Flamegraph(e.to_string()))?;
        Ok(svg)
    }
}
