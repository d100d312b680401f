//! The comparison's report: medians of the rounds, shares of the limit, a markdown table and
//! JSON.

use std::path::Path;

use serde_json::json;

use crate::Mode;
use crate::subject::{Era, Subject};

/// One measured figure set of one round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Round {
    pub(crate) per_second: f64,
    pub(crate) p50_us: Option<f64>,
    pub(crate) p99_us: Option<f64>,
    /// The server's CPU time over the round, in microseconds.
    pub(crate) cpu_us: Option<f64>,
    pub(crate) requests: u64,
}

/// What a figure is of: a path, a payload, and a subject in an era.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    transport: &'static str,
    mode: Mode,
    payload: usize,
    subject: String,
    era: Era,
}

impl Cell {
    pub(crate) fn new(transport: &'static str, mode: Mode, payload: usize, subject: &Subject, era: Era) -> Self {
        Cell { transport, mode, payload, subject: subject.name.clone(), era }
    }

    fn path(&self) -> String {
        match (self.transport, self.mode) {
            ("stdio", Mode::Serial) => "stdio serial".into(),
            ("stdio", Mode::Concurrent) => format!("stdio {} in flight", crate::IN_FLIGHT),
            (_, Mode::Serial) => "HTTP serial".into(),
            (_, Mode::Concurrent) => format!("HTTP {} connections", crate::IN_FLIGHT),
        }
    }

    fn column(&self) -> String {
        column(&self.subject, self.era)
    }

    fn row(&self) -> (String, usize) {
        (self.path(), self.payload)
    }
}

fn column(subject: &str, era: Era) -> String {
    if subject == "limit" { subject.into() } else { format!("{subject} {}", era.label()) }
}

/// Every round of every cell, and each process's peak RSS.
pub(crate) struct Report {
    rounds: usize,
    seconds: f64,
    cells: Vec<(Cell, Vec<Round>)>,
    rss: Vec<(&'static str, String, Option<Era>, Option<u64>)>,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    (n > 0).then(|| if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

impl Report {
    pub(crate) fn new(rounds: usize, seconds: f64) -> Self {
        Report { rounds, seconds, cells: Vec::new(), rss: Vec::new() }
    }

    pub(crate) fn add(&mut self, cell: Cell, round: Round) {
        match self.cells.iter_mut().find(|(c, _)| *c == cell) {
            Some((_, rounds)) => rounds.push(round),
            None => self.cells.push((cell, vec![round])),
        }
    }

    pub(crate) fn peak_rss(&mut self, transport: &'static str, subject: &Subject, era: Option<Era>, kib: Option<u64>) {
        self.rss.push((transport, subject.name.clone(), era, kib));
    }

    fn median_of(&self, cell: &Cell, figure: impl Fn(&Round) -> Option<f64>) -> Option<f64> {
        let (_, rounds) = self.cells.iter().find(|(c, _)| c == cell)?;
        median(rounds.iter().filter_map(figure).collect())
    }

    /// The limit's cell for the path and payload of `cell`.
    fn limit_of(&self, cell: &Cell) -> Option<&Cell> {
        self.cells.iter().map(|(c, _)| c).find(|c| c.subject == "limit" && c.row() == cell.row())
    }

    /// The server's CPU time per request over all rounds, in microseconds (`/proc` counts in
    /// 10 ms ticks, so the rounds are summed, not taken apart).
    fn cpu_per_request(&self, cell: &Cell) -> Option<f64> {
        let (_, rounds) = self.cells.iter().find(|(c, _)| c == cell)?;
        let cpu: Option<f64> = rounds.iter().map(|r| r.cpu_us).sum();
        let requests: u64 = rounds.iter().map(|r| r.requests).sum();
        cpu.filter(|_| requests > 0).map(|cpu| cpu / requests as f64)
    }

    fn share(&self, cell: &Cell) -> Option<f64> {
        let limit = self.median_of(self.limit_of(cell)?, |r| Some(r.per_second))?;
        Some(self.median_of(cell, |r| Some(r.per_second))? / limit)
    }

    fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for (cell, _) in &self.cells {
            if !columns.contains(&cell.column()) {
                columns.push(cell.column());
            }
        }
        columns
    }

    fn rows(&self) -> Vec<(String, usize)> {
        let mut rows: Vec<(String, usize)> = Vec::new();
        for (cell, _) in &self.cells {
            if !rows.contains(&cell.row()) {
                rows.push(cell.row());
            }
        }
        rows
    }

    fn table(&self, title: &str, rows: &[(String, usize)], figure: impl Fn(&Cell) -> Option<String>) -> String {
        let columns = self.columns();
        let mut out = format!(
            "{title}\n\n| path | payload | {} |\n|---|---|{}\n",
            columns.join(" | "),
            "---|".repeat(columns.len())
        );
        for (path, payload) in rows {
            let figures: Vec<String> = columns
                .iter()
                .map(|column| {
                    let cell = self
                        .cells
                        .iter()
                        .map(|(c, _)| c)
                        .find(|c| c.row() == (path.clone(), *payload) && c.column() == *column);
                    cell.and_then(&figure).unwrap_or_else(|| "–".into())
                })
                .collect();
            out.push_str(&format!("| {path} | {} | {} |\n", bytes(*payload), figures.join(" | ")));
        }
        out
    }

    /// The markdown report.
    pub(crate) fn markdown(&self) -> String {
        let rows = self.rows();
        let mut out = format!(
            "Medians of {} rounds of {} s per cell, subjects interleaved; the limit is a bare newline-JSON loop (stdio) or a bare hyper echo (HTTP).\n\n",
            self.rounds, self.seconds
        );
        out.push_str(&self.table("Requests per second (share of the limit)", &rows, |cell| {
            let rate = self.median_of(cell, |r| Some(r.per_second))?;
            Some(match self.share(cell) {
                Some(share) if cell.subject != "limit" => format!("{} ({:.0}%)", rate_text(rate), share * 100.0),
                _ => rate_text(rate),
            })
        }));
        let serial: Vec<(String, usize)> = rows.iter().filter(|(path, _)| path.ends_with("serial")).cloned().collect();
        out.push('\n');
        out.push_str(&self.table("Serial latency, p50 / p99 (µs)", &serial, |cell| {
            Some(format!("{:.0} / {:.0}", self.median_of(cell, |r| r.p50_us)?, self.median_of(cell, |r| r.p99_us)?))
        }));
        out.push('\n');
        out.push_str(&self.table("Server CPU time per request, µs (times the limit's)", &rows, |cell| {
            let cpu = self.cpu_per_request(cell)?;
            let limit = self.limit_of(cell).and_then(|l| self.cpu_per_request(l)).filter(|l| *l > 0.0);
            Some(match limit {
                Some(limit) if cell.subject != "limit" => format!("{cpu:.1} (×{:.2})", cpu / limit),
                _ => format!("{cpu:.1}"),
            })
        }));
        out.push_str("\nPeak RSS (MB)\n\n| transport | process | peak RSS |\n|---|---|---|\n");
        for (transport, subject, era, kib) in &self.rss {
            let process = match era {
                Some(era) => column(subject, *era),
                None => subject.clone(),
            };
            let figure = kib.map_or_else(|| "–".into(), |k| format!("{:.1}", k as f64 / 1024.0));
            out.push_str(&format!("| {transport} | {process} | {figure} |\n"));
        }
        out
    }

    /// The JSON report: every round of every cell, the medians and shares, the peak RSS.
    pub(crate) fn json(&self) -> serde_json::Value {
        let cells: Vec<_> = self
            .cells
            .iter()
            .map(|(cell, rounds)| {
                json!({
                    "transport": cell.transport,
                    "path": cell.path(),
                    "payload_bytes": cell.payload,
                    "subject": cell.subject,
                    "era": cell.era.label(),
                    "rounds": rounds.iter().map(|r| json!({"per_second": r.per_second, "p50_us": r.p50_us, "p99_us": r.p99_us, "requests": r.requests, "cpu_us": r.cpu_us})).collect::<Vec<_>>(),
                    "median_per_second": self.median_of(cell, |r| Some(r.per_second)),
                    "median_p50_us": self.median_of(cell, |r| r.p50_us),
                    "median_p99_us": self.median_of(cell, |r| r.p99_us),
                    "share_of_limit": self.share(cell),
                    "cpu_us_per_request": self.cpu_per_request(cell),
                })
            })
            .collect();
        let rss: Vec<_> = self
            .rss
            .iter()
            .map(|(transport, subject, era, kib)| {
                json!({"transport": transport, "subject": subject, "era": era.map(Era::label), "peak_rss_kib": kib})
            })
            .collect();
        json!({"rounds": self.rounds, "seconds_per_cell": self.seconds, "cells": cells, "peak_rss": rss})
    }

    /// Prints the markdown and writes `compare.md` and `compare.json` into `dir`.
    pub(crate) fn write(&self, dir: &Path) -> Result<(), String> {
        let markdown = self.markdown();
        println!("{markdown}");
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = serde_json::to_string_pretty(&self.json()).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("compare.md"), markdown)
            .and_then(|()| std::fs::write(dir.join("compare.json"), json))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        eprintln!("written: {} and compare.json", dir.join("compare.md").display());
        Ok(())
    }
}

fn rate_text(rate: f64) -> String {
    if rate >= 1e3 { format!("{:.1}k", rate / 1e3) } else { format!("{rate:.0}") }
}

fn bytes(n: usize) -> String {
    if n >= 1024 { format!("{} KB", n / 1024) } else { format!("{n} B") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_figure() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(Vec::new()), None);
    }

    #[test]
    fn shares_are_of_the_limit_on_the_same_path_and_payload() {
        let limit = Subject::limit("a".into(), "b".into());
        let mocopr = Subject::mocopr("mocopr", "c".into());
        let mut report = Report::new(1, 1.0);
        let round = |per_second: f64| Round {
            per_second,
            p50_us: Some(10.0),
            p99_us: Some(20.0),
            cpu_us: Some(per_second * 10.0),
            requests: per_second as u64,
        };
        report.add(Cell::new("stdio", Mode::Serial, 100, &limit, Era::Modern), round(1000.0));
        report.add(Cell::new("stdio", Mode::Serial, 100, &mocopr, Era::Legacy), round(800.0));
        report.add(Cell::new("stdio", Mode::Concurrent, 100, &mocopr, Era::Legacy), round(5000.0));
        let cell = Cell::new("stdio", Mode::Serial, 100, &mocopr, Era::Legacy);
        assert_eq!(report.share(&cell), Some(0.8));
        assert_eq!(report.share(&Cell::new("stdio", Mode::Concurrent, 100, &mocopr, Era::Legacy)), None);
        let markdown = report.markdown();
        assert!(markdown.contains("| stdio serial | 100 B | 1.0k | 800 (80%) |"), "{markdown}");
        assert!(markdown.contains("| stdio serial | 100 B | 10 / 20 | 10 / 20 |"), "{markdown}");
        assert_eq!(report.cpu_per_request(&cell), Some(10.0));
        assert!(markdown.contains("| stdio serial | 100 B | 10.0 | 10.0 (×1.00) |"), "{markdown}");
    }
}
