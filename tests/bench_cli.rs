//! `rso bench` through the real binary: the sampler table and the I/O table.

mod common;
use common::ok;

/// The cells of the table row starting with `first` in `out`.
fn row<'a>(out: &'a str, first: &str) -> Vec<&'a str> {
    let line = out.lines().find(|l| l.starts_with(&format!("| {first} |"))).unwrap_or_else(|| panic!("no row {first}:\n{out}"));
    line.split('|').map(str::trim).filter(|c| !c.is_empty()).collect()
}

#[test]
fn sampler_table_has_a_rate_per_batch() {
    let out = ok(&["bench", "--no-gpu", "--prompts", "100,400", "--candidates", "20", "--repeats", "1"], b"");
    for first in ["100 x 20", "400 x 20"] {
        let cells = row(&out, first);
        assert_eq!(cells.len(), 8, "{cells:?}");
        assert!(cells[1].ends_with("M/s") || cells[1].ends_with("G/s"), "{cells:?}");
        assert!(cells[2].ends_with("M/s") || cells[2].ends_with("G/s"), "{cells:?}");
        assert_eq!(&cells[3..], ["-", "-", "-", "-", "-"], "no GPU column was asked for");
    }
}

#[test]
fn io_table_times_a_dump_against_its_floors() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/dump.jsonl");
    let out = ok(&["bench", "--skip-sampler", "--no-gpu", "--repeats", "1", "--input", example], b"");
    let cells = row(&out, example);
    assert_eq!(cells.len(), 6, "{cells:?}");
    let size: f64 = cells[1].trim_end_matches(" MB").parse().unwrap();
    let bytes = std::fs::metadata(example).unwrap().len() as f64;
    assert!((size - bytes / 1e6).abs() < 0.05, "{cells:?}");
    for cell in &cells[2..5] {
        assert!(cell.ends_with("MB/s)"), "{cells:?}");
    }
    let ratio: f64 = cells[5].parse().unwrap();
    assert!(ratio > 0.0, "{cells:?}");
}

#[test]
fn write_dump_writes_the_synthetic_dump_that_sample_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("synthetic.jsonl");
    // More prompts than one write (4096), so the pieces must join up exactly.
    let args = ["bench", "--write-dump", path.to_str().unwrap(), "--prompts", "5000", "--candidates", "6", "--text-len", "40"];
    assert_eq!(ok(&args, b""), "");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, rso::bench::synthetic_dump(5000, 6, 40));
    let samples = ok(&["sample", "-q", "--backend", "cpu", "-k", "3", path.to_str().unwrap()], b"");
    assert_eq!(samples.lines().count(), 5000);
}
