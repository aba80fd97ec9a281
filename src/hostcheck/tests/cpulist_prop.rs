//! The CPU-list and mask parsers against a simple model.

use proptest::prelude::*;
use std::collections::BTreeSet;
use tickwire_hostcheck::{
    CpuSet, format_cpu_list, format_cpu_mask, parse_cpu_list, parse_cpu_list_with_last,
    parse_cpu_mask,
};

/// One element of a list as the model sees it.
#[derive(Debug, Clone)]
enum Elem {
    One(usize),
    Range(usize, usize),
    Grouped {
        start: usize,
        end: usize,
        used: usize,
        size: usize,
    },
    Last,
}

impl Elem {
    fn text(&self) -> String {
        match self {
            Elem::One(n) => n.to_string(),
            Elem::Range(a, b) => format!("{a}-{b}"),
            Elem::Grouped {
                start,
                end,
                used,
                size,
            } => format!("{start}-{end}:{used}/{size}"),
            Elem::Last => "N".to_string(),
        }
    }

    /// The model: brute force over every candidate CPU.
    fn cpus(&self, last: usize) -> BTreeSet<usize> {
        match *self {
            Elem::One(n) => [n].into(),
            Elem::Range(a, b) => (a..=b).collect(),
            Elem::Grouped {
                start,
                end,
                used,
                size,
            } => (start..=end)
                .filter(|c| (c - start) % size < used)
                .collect(),
            Elem::Last => [last].into(),
        }
    }
}

fn elem() -> impl Strategy<Value = Elem> {
    prop_oneof![
        (0usize..300).prop_map(Elem::One),
        (0usize..300, 0usize..40).prop_map(|(a, len)| Elem::Range(a, a + len)),
        (0usize..200, 0usize..100, 1usize..12)
            .prop_flat_map(|(a, len, size)| (Just(a), Just(len), 0..=size, Just(size)))
            .prop_map(|(start, len, used, size)| Elem::Grouped {
                start,
                end: start + len,
                used,
                size
            }),
        Just(Elem::Last),
    ]
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(","), Just(","), Just(",,"), Just(" , ")]
}

proptest! {
    #[test]
    fn list_matches_model(
        elems in prop::collection::vec((elem(), separator()), 0..12),
        last in 0usize..400,
        trailing in prop_oneof![Just(""), Just("\n"), Just(",\n")],
    ) {
        let mut text = String::new();
        let mut model = BTreeSet::new();
        for (i, (e, sep)) in elems.iter().enumerate() {
            if i > 0 {
                text.push_str(sep);
            }
            text.push_str(&e.text());
            model.extend(e.cpus(last));
        }
        text.push_str(trailing);
        let got = parse_cpu_list_with_last(&text, Some(last)).unwrap();
        prop_assert_eq!(got.iter().collect::<BTreeSet<_>>(), model, "{:?}", text);
    }

    #[test]
    fn format_then_parse_round_trips(cpus in prop::collection::btree_set(0usize..2000, 0..200)) {
        let set: CpuSet = cpus.iter().copied().collect();
        let list = format_cpu_list(&set);
        // The kernel's own output form: ascending, no empty elements, a
        // range only for two or more consecutive CPUs.
        prop_assert!(!list.contains(",,") && !list.starts_with(',') && !list.ends_with(','));
        prop_assert_eq!(parse_cpu_list(&list).unwrap(), set.clone());
        let mask = format_cpu_mask(&set);
        prop_assert_eq!(parse_cpu_mask(&mask).unwrap(), set.clone());
        // Zero-padded 32-bit words, as the kernel prints for many CPUs.
        let words = cpus.last().map_or(1, |m| m / 32 + 1) + 1;
        let mut padded = Vec::new();
        for w in (0..words).rev() {
            let v: u32 = cpus.iter().filter(|c| *c / 32 == w).fold(0, |a, c| a | 1 << (c % 32));
            padded.push(format!("{v:08x}"));
        }
        prop_assert_eq!(parse_cpu_mask(&padded.join(",")).unwrap(), set);
    }

    #[test]
    fn reversed_ranges_are_errors(a in 1usize..1000, d in 1usize..1000) {
        let text = format!("{}-{}", a + d, a);
        prop_assert!(parse_cpu_list(&text).is_err());
    }

    #[test]
    fn any_text_parses_or_errors_without_panic(s in "\\PC{0,60}") {
        let _ = parse_cpu_list(&s);
        let _ = parse_cpu_list_with_last(&s, Some(7));
        let _ = parse_cpu_mask(&s);
    }

    #[test]
    fn list_like_text_never_panics(s in "[0-9N,:/ \\-]{0,40}") {
        if let Ok(set) = parse_cpu_list_with_last(&s, Some(63)) {
            // Whatever parsed, formatting it parses back to the same set.
            prop_assert_eq!(parse_cpu_list(&format_cpu_list(&set)).unwrap(), set);
        }
    }
}
