//! A [`CpuProfile`] in pprof's protobuf format (`profile.proto` of google/pprof), the input of
//! `go tool pprof`, speedscope and most profile viewers. Written uncompressed (the tools read
//! plain and gzipped profiles alike).

use std::collections::HashMap;

use prost::Message;

use crate::cpu::CpuProfile;

/// `Profile` of `profile.proto`: only the fields a CPU profile uses.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Profile {
    #[prost(message, repeated, tag = "1")]
    pub(crate) sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    pub(crate) sample: Vec<Sample>,
    #[prost(message, repeated, tag = "4")]
    pub(crate) location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    pub(crate) function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    pub(crate) string_table: Vec<String>,
    #[prost(int64, tag = "10")]
    pub(crate) duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    pub(crate) period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    pub(crate) period: i64,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct ValueType {
    #[prost(int64, tag = "1")]
    pub(crate) r#type: i64,
    #[prost(int64, tag = "2")]
    pub(crate) unit: i64,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Sample {
    /// Innermost frame first.
    #[prost(uint64, repeated, tag = "1")]
    pub(crate) location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    pub(crate) value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) label: Vec<Label>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Label {
    #[prost(int64, tag = "1")]
    pub(crate) key: i64,
    #[prost(int64, tag = "2")]
    pub(crate) str: i64,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Location {
    #[prost(uint64, tag = "1")]
    pub(crate) id: u64,
    #[prost(message, repeated, tag = "4")]
    pub(crate) line: Vec<Line>,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Line {
    #[prost(uint64, tag = "1")]
    pub(crate) function_id: u64,
}

#[derive(Clone, PartialEq, Message)]
pub(crate) struct Function {
    #[prost(uint64, tag = "1")]
    pub(crate) id: u64,
    #[prost(int64, tag = "2")]
    pub(crate) name: i64,
    #[prost(int64, tag = "3")]
    pub(crate) system_name: i64,
}

/// Interned strings; index 0 is the empty string, as the format requires.
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        Strings { table: vec![String::new()], index: HashMap::from([(String::new(), 0)]) }
    }

    fn id(&mut self, text: &str) -> i64 {
        if let Some(id) = self.index.get(text) {
            return *id;
        }
        let id = self.table.len() as i64;
        self.table.push(text.to_owned());
        self.index.insert(text.to_owned(), id);
        id
    }
}

/// One location (and function) per distinct frame name: a sampled profile has no addresses to
/// tell inlined copies apart, and names are what viewers show.
pub(crate) fn encode(profile: &CpuProfile) -> Vec<u8> {
    let mut strings = Strings::new();
    let mut locations: HashMap<String, u64> = HashMap::new();
    let mut out = Profile {
        sample_type: vec![
            ValueType { r#type: strings.id("samples"), unit: strings.id("count") },
            ValueType { r#type: strings.id("cpu"), unit: strings.id("nanoseconds") },
        ],
        duration_nanos: i64::try_from(profile.duration().as_nanos()).unwrap_or(i64::MAX),
        period_type: Some(ValueType { r#type: strings.id("cpu"), unit: strings.id("nanoseconds") }),
        period: 1_000_000_000 / i64::from(profile.frequency().max(1)),
        ..Profile::default()
    };
    let thread_key = strings.id("thread");
    for (stack, count) in profile.stacks() {
        let mut frames = stack.split(';');
        let thread = frames.next().unwrap_or_default();
        let mut location_id = Vec::new();
        // Folded stacks go outermost first; samples list the innermost first.
        for frame in frames.rev() {
            let id = match locations.get(frame) {
                Some(id) => *id,
                None => {
                    let id = locations.len() as u64 + 1;
                    let name = strings.id(frame);
                    out.function.push(Function { id, name, system_name: name });
                    out.location.push(Location { id, line: vec![Line { function_id: id }] });
                    locations.insert(frame.to_owned(), id);
                    id
                }
            };
            location_id.push(id);
        }
        let count = i64::try_from(*count).unwrap_or(i64::MAX);
        out.sample.push(Sample {
            location_id,
            value: vec![count, count.saturating_mul(out.period)],
            label: vec![Label { key: thread_key, str: strings.id(thread) }],
        });
    }
    out.string_table = strings.table;
    out.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stacks_round_trip_through_the_protobuf() {
        let profile = CpuProfile::from_stacks(
            vec![
                ("main-thread;main;run;busy_loop".into(), 7),
                ("main-thread;main;run;idle".into(), 2),
                ("worker;busy_loop".into(), 1),
            ],
            Duration::from_millis(100),
            100,
        );
        let decoded = Profile::decode(encode(&profile).as_slice()).unwrap();
        assert_eq!(decoded.string_table[0], "");
        let name = |location: u64| {
            let function = decoded.function.iter().find(|f| f.id == location).unwrap();
            decoded.string_table[function.name as usize].clone()
        };
        let first = &decoded.sample[0];
        assert_eq!(first.value, [7, 70_000_000], "count, then cpu time at 100 Hz");
        assert_eq!(first.location_id.iter().map(|l| name(*l)).collect::<Vec<_>>(), ["busy_loop", "run", "main"]);
        assert_eq!(decoded.function.len(), 4, "one function per distinct frame");
        assert_eq!(decoded.sample.iter().map(|s| s.value[0]).sum::<i64>(), 10);
        assert_eq!(decoded.period, 10_000_000);
        assert_eq!(decoded.duration_nanos, 100_000_000);
        let thread = &decoded.string_table[decoded.sample[2].label[0].str as usize];
        assert_eq!(thread, "worker");
    }
}
