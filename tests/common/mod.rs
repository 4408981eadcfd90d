//! Helpers shared by the integration tests: exact enumeration of the sampler's output
//! distribution, and running the `rso` binary.
#![allow(dead_code)]

pub mod exact;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Starts `rso` with `args`, its standard streams piped, for tests that talk to it while it
/// runs.
pub fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rso"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rso")
}

/// Runs `rso` with `args`, feeding `stdin` from a thread of its own (so a large input and
/// a large output cannot block each other).
pub fn rso(args: &[&str], stdin: impl AsRef<[u8]>) -> Run {
    let mut child = spawn(args);
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.as_ref().to_vec();
    // The command may stop before reading its input (an argument error).
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs `rso` and returns its stdout, failing the test if it fails.
pub fn ok(args: &[&str], stdin: impl AsRef<[u8]>) -> String {
    let run = rso(args, stdin);
    assert_eq!(run.code, 0, "rso {args:?} failed: {}", run.stderr);
    run.stdout
}

/// Writes `text` to `name` in `dir` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `text` to `dir` as `NAME.gz` and `NAME.zst`; returns both paths.
pub fn write_compressed(dir: &Path, name: &str, text: &str) -> (PathBuf, PathBuf) {
    let gz = dir.join(format!("{name}.gz"));
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let zst = dir.join(format!("{name}.zst"));
    std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 1).unwrap()).unwrap();
    (gz, zst)
}

/// Parses JSONL output.
pub fn rows(text: &str) -> Vec<serde_json::Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// A small deterministic generator for test data.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A reward in [-2, 2) with 3 decimals.
    pub fn reward(&mut self) -> f64 {
        (self.next() % 4000) as f64 / 1000.0 - 2.0
    }
}
