//! `rso sample` on the GPU through the real binary: the same output as the CPU,
//! `--cross-check`, and the backend choice. Without an adapter these tests are skipped,
//! except under CI (`CI=true`), where a missing adapter fails them.

mod common;
use common::{ok, rows, rso};

fn have_adapter() -> bool {
    if rso::sampler::gpu::adapter_info().is_some() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("no GPU adapter under CI (CI=true): install mesa-vulkan-drivers");
    }
    eprintln!("no GPU adapter: skipped");
    false
}

fn example() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/examples/dump.jsonl")
}

#[test]
fn gpu_output_equals_cpu_output() {
    if !have_adapter() {
        return;
    }
    for extra in [vec![], vec!["--beta", "0"], vec!["--beta", "inf"], vec!["-k", "3", "--pairs", "tournament"]] {
        let mut cpu = vec!["sample", example(), "-q", "--backend", "cpu", "--seed", "9"];
        cpu.extend(&extra);
        let mut gpu = cpu.clone();
        gpu[4] = "gpu";
        assert_eq!(ok(&gpu, ""), ok(&cpu, ""), "{extra:?}");
    }
}

#[test]
fn cross_check_reports_agreement() {
    if !have_adapter() {
        return;
    }
    let run = rso(&["sample", example(), "--cross-check", "--on-short", "all", "-k", "16"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("cross-check against the cpu: 200 prompts, 200 with identical indices, 0 differ"), "{}", run.stderr);
    assert!(run.stderr.contains("gpu ("), "{}", run.stderr);
    assert_eq!(rows(&run.stdout).len(), 200);
    let refused = rso(&["sample", example(), "--cross-check", "--backend", "cpu"], "");
    assert_eq!(refused.code, 2);
}

#[test]
fn auto_says_which_backend_it_chose() {
    let run = rso(&["sample", example()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("--backend auto:"), "{}", run.stderr);
    let chose_gpu = run.stderr.contains("using the GPU");
    let hardware = rso::sampler::gpu::adapter_info().is_some_and(|a| a.device_type != wgpu::DeviceType::Cpu);
    assert_eq!(chose_gpu, hardware, "{}", run.stderr);
}

#[test]
fn a_gpu_failure_ends_the_run_with_no_output_file() {
    if !have_adapter() {
        return;
    }
    // A pool larger than the (capped) binding cannot run: a GPU error, not a panic.
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<String> = (0..400).map(|i| format!("r{i}")).collect();
    let row = serde_json::json!({"id": "big", "prompt": "p", "responses": big, "rewards": vec![0.5; 400]});
    let input = common::write(dir.path(), "in.jsonl", &format!("{}\n{}", std::fs::read_to_string(example()).unwrap(), row));
    let output = dir.path().join("out.jsonl");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_rso"))
        .args(["sample", input.to_str().unwrap(), "--backend", "gpu", "-o", output.to_str().unwrap()])
        .env("RSO_GPU_MAX_BINDING_BYTES", "1024")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("rso: error: GPU:") && stderr.contains("400 candidates"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "only the input is left");
}

#[test]
fn bench_prints_the_gpu_columns() {
    if !have_adapter() {
        return;
    }
    let out = ok(&["bench", "--prompts", "300", "--candidates", "16", "--repeats", "1"], b"");
    assert!(out.contains("| gpu | gpu kernels |"), "{out}");
    let row = out.lines().find(|l| l.starts_with("| 300 x 16 |")).unwrap_or_else(|| panic!("{out}"));
    let cells: Vec<&str> = row.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(cells.len(), 8, "{row}");
    assert_eq!(cells[7], "300 of 300 prompts", "{row}");
    // Every rate is a number of candidates per second (the kernel column may be "-" only
    // on a device without timestamp queries, which the header line then says).
    for cell in &cells[1..4] {
        assert!(cell.ends_with("M/s") || cell.ends_with("G/s"), "{row}");
    }
    assert!(cells[4].ends_with("/s") || out.contains("no timestamp queries"), "{row}");
}
