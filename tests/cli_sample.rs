//! `rso sample` driven through the real binary: output shape, reproducibility, invariance
//! and every bad-input case.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{ok, rso, write, write_compressed};

fn rows(text: &str) -> Vec<Value> {
    common::rows(text)
}

/// A small wide dump: `prompts` rows with ids, ragged pools of 9..=40 candidates.
fn dump(prompts: usize) -> String {
    let mut text = String::new();
    for p in 0..prompts {
        let n = 9 + (p * 7) % 32;
        let responses: Vec<String> = (0..n).map(|i| format!("p{p} r{i} ünï \"q\" \\ \n 🎲")).collect();
        let rewards: Vec<f64> = (0..n).map(|i| (((p * 31 + i * 17) % 23) as f64 - 11.0) / 7.0).collect();
        let row = serde_json::json!({"id": format!("q{p}"), "prompt": format!("prompt {p}"),
            "responses": responses, "rewards": rewards, "meta": {"source": "test", "n": n}});
        text += &row.to_string();
        text.push('\n');
    }
    text
}

fn example() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/dump.jsonl"))
}

#[test]
fn samples_are_k_distinct_candidates_with_their_texts_and_rewards() {
    let input = std::fs::read_to_string(example()).unwrap();
    let out = ok(&["sample", example().to_str().unwrap(), "-k", "8", "--beta", "0.5", "--quiet"], b"");
    let inputs = rows(&input);
    let outputs = rows(&out);
    assert_eq!(inputs.len(), outputs.len());
    for (row, sampled) in inputs.iter().zip(&outputs) {
        assert_eq!(row["id"], sampled["id"]);
        assert_eq!(row["prompt"], sampled["prompt"]);
        let indices: Vec<usize> =
            sampled["indices"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
        assert_eq!(indices.len(), 8);
        let mut unique = indices.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 8, "an index repeats: {indices:?}");
        for (j, &i) in indices.iter().enumerate() {
            assert_eq!(sampled["samples"][j], row["responses"][i]);
            assert_eq!(sampled["rewards"][j].as_f64(), row["rewards"][i].as_f64());
        }
    }
}

#[test]
fn texts_come_out_byte_identical() {
    let line = r#"{"prompt":[{"role":"user","content":"h\u00e9"}],"responses":["a\u00e9\"\\\n\t🎲","\ud83c\udfb2 x","plain"],"rewards":[1,2,3],"extra":{"k":[1,"\u0041"]}}"#;
    let out = ok(&["sample", "-k", "3", "--beta", "inf", "-q"], format!("{line}\n").as_bytes());
    assert_eq!(
        out,
        "{\"prompt\":[{\"role\":\"user\",\"content\":\"h\\u00e9\"}],\"extra\":{\"k\":[1,\"\\u0041\"]},\"samples\":[\"a\\u00e9\\\"\\\\\\n\\t🎲\",\"\\ud83c\\udfb2 x\",\"plain\"],\"rewards\":[1.0,2.0,3.0],\"indices\":[0,1,2]}\n"
    );
}

#[test]
fn same_seed_same_output_and_seed_matters() {
    let input = dump(50);
    let a = ok(&["sample", "--seed", "3", "-q"], input.as_bytes());
    let b = ok(&["sample", "--seed", "3", "-q"], input.as_bytes());
    let c = ok(&["sample", "--seed", "4", "-q"], input.as_bytes());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn output_does_not_depend_on_threads_or_block_size() {
    let input = dump(300);
    let reference = ok(&["sample", "-q", "--threads", "1"], input.as_bytes());
    for args in [
        vec!["--threads", "2"],
        vec!["--threads", "2", "--block-size", "1"],
        vec!["--threads", "1", "--block-size", "3000"],
        vec!["--block-size", "100000000"],
        vec!["--block-size", "2K"],
        vec!["--block-size", "1MiB"],
    ] {
        let mut all = vec!["sample", "-q"];
        all.extend(args.iter());
        assert_eq!(ok(&all, input.as_bytes()), reference, "{args:?}");
    }
}

#[test]
fn a_prompt_with_an_id_gets_the_same_samples_wherever_it_sits() {
    let input = dump(120);
    let mut lines: Vec<&str> = input.lines().collect();
    let reference = rows(&ok(&["sample", "-q"], input.as_bytes()));
    // A fixed permutation, and a shard holding every third row.
    lines.reverse();
    lines.rotate_left(17);
    let shuffled = lines.join("\n") + "\n";
    let shard: String = input.lines().skip(1).step_by(3).map(|l| format!("{l}\n")).collect();
    for text in [shuffled, shard] {
        for row in rows(&ok(&["sample", "-q"], text.as_bytes())) {
            let want = reference.iter().find(|r| r["id"] == row["id"]).unwrap();
            assert_eq!(&row, want);
        }
    }
}

#[test]
fn rows_without_id_are_keyed_by_ordinal() {
    let with_ids = dump(5);
    let without: String = rows(&with_ids)
        .into_iter()
        .map(|mut r| {
            r.as_object_mut().unwrap().remove("id");
            format!("{r}\n")
        })
        .collect();
    let a = rows(&ok(&["sample", "-q"], without.as_bytes()));
    let b = rows(&ok(&["sample", "-q"], format!("\n{without}\r\n").as_bytes()));
    assert_eq!(a, b, "blank lines must not shift ordinals");
    assert!(a.iter().all(|r| r.get("id").is_none()));
}

#[test]
fn duplicates_are_distinct_unless_dedup() {
    let line = r#"{"id":1,"prompt":"p","responses":["same","same","other","s\u0061me"],"rewards":[5,5,-9,5]}"#;
    let input = format!("{line}\n");
    let plain = rows(&ok(&["sample", "-k", "4", "--beta", "0", "-q"], input.as_bytes()));
    assert_eq!(plain[0]["indices"], serde_json::json!([0, 1, 3, 2]));
    let dedup = rows(&ok(&["sample", "-k", "2", "--beta", "0", "--dedup", "-q"], input.as_bytes()));
    assert_eq!(dedup[0]["indices"], serde_json::json!([0, 2]));
    assert_eq!(dedup[0]["samples"], serde_json::json!(["same", "other"]));
    let out = rso(&["sample", "-k", "3", "--dedup"], input.as_bytes());
    assert_eq!(out.code, 2, "after dedup the pool has 2 < k candidates");
}

#[test]
fn short_pools_follow_the_policy() {
    let input = "{\"id\":\"a\",\"prompt\":\"p\",\"responses\":[\"x\",\"y\"],\"rewards\":[0.5,0.1]}\n\
                 {\"id\":\"b\",\"prompt\":\"p\",\"responses\":[\"x\",\"y\",\"z\"],\"rewards\":[0,1,2]}\n";
    let err = rso(&["sample", "-k", "3"], input.as_bytes());
    assert_eq!(err.code, 2);
    let message = err.stderr.clone();
    assert!(message.contains("line 1") && message.contains("--on-short"), "{message}");

    let all = rows(&ok(&["sample", "-k", "3", "--on-short", "all", "-q"], input.as_bytes()));
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["indices"].as_array().unwrap().len(), 2);
    let skip = rso(&["sample", "-k", "3", "--on-short", "skip"], input.as_bytes());
    let kept = rows(&skip.stdout.clone());
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["id"], "b");
    assert!(skip.stderr.clone().contains("1 prompts skipped"));
}

#[test]
fn beta_limits_are_greedy_and_first_k() {
    let input = "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\",\"c\",\"d\",\"e\"],\"rewards\":[0.1,0.9,0.5,0.9,-3]}\n";
    let greedy = rows(&ok(&["sample", "-k", "3", "--beta", "0", "-q"], input.as_bytes()));
    assert_eq!(greedy[0]["indices"], serde_json::json!([1, 3, 2]));
    let first = rows(&ok(&["sample", "-k", "3", "--beta", "inf", "-q"], input.as_bytes()));
    assert_eq!(first[0]["indices"], serde_json::json!([0, 1, 2]));
}

#[test]
fn file_output_is_complete_or_absent() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("in.jsonl");
    std::fs::write(&good, dump(20)).unwrap();
    let out = dir.path().join("out.jsonl");
    ok(&["sample", good.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q"], b"");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 20);

    // A bad row far into the file: the old output stays as it was, nothing else is left.
    let before = std::fs::read(&out).unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, dump(3000) + "{\"prompt\":1}\n").unwrap();
    let run = rso(&["sample", bad.to_str().unwrap(), "-o", out.to_str().unwrap(), "--block-size", "4096"], b"");
    assert_eq!(run.code, 2);
    assert!(run.stderr.clone().contains("line 3001"));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let fresh = dir.path().join("fresh.jsonl");
    let run = rso(&["sample", bad.to_str().unwrap(), "-o", fresh.to_str().unwrap()], b"");
    assert_eq!(run.code, 2);
    assert!(!fresh.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 3, "left behind: {names:?}");
}

#[test]
fn missing_input_file_is_a_clear_error() {
    let run = rso(&["sample", "/nonexistent/dump.jsonl"], b"");
    assert_eq!(run.code, 1);
    assert!(run.stderr.clone().contains("/nonexistent/dump.jsonl"));
}

/// Every bad input: exit code 2, a message naming the line and the field, no panic.
#[test]
fn bad_input_table() {
    let good = r#"{"id":"a","prompt":"p","responses":["x","y"],"rewards":[1,2]}"#;
    let cases: &[(&str, &str, &[&str])] = &[
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1,2]"#, "line 2", &["invalid JSON"]),
        (r#"not json"#, "line 2", &["invalid JSON"]),
        (r#"[1,2,3]"#, "line 2", &["invalid JSON", "object"]),
        (r#"{"prompt":"p","rewards":[1,2]}"#, "line 2", &["`responses`", "missing"]),
        (r#"{"prompt":"p","responses":["x","y"]}"#, "line 2", &["`rewards`", "missing"]),
        (r#"{"responses":["x","y"],"rewards":[1,2]}"#, "line 2", &["`prompt`", "missing"]),
        (r#"{"prompt":"p","responses":"x","rewards":[1]}"#, "line 2", &["`responses`"]),
        (r#"{"prompt":"p","responses":["x",7],"rewards":[1,2]}"#, "line 2", &["`responses`", "element 1"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1,"2"]}"#, "line 2", &["`rewards`", "element 1"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1,null]}"#, "line 2", &["`rewards`", "null"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1,NaN]}"#, "line 2", &["`rewards`", "NaN"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[Infinity,1]}"#, "line 2", &["`rewards`", "Infinity"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1,-Infinity]}"#, "line 2", &["`rewards`"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1,1e39]}"#, "line 2", &["`rewards`", "finite"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1e999,1]}"#, "line 2", &["`rewards`"]),
        (r#"{"prompt":"p","responses":["x","y"],"rewards":[1]}"#, "line 2", &["`rewards`", "1 values", "2"]),
        (r#"{"prompt":"p","responses":[],"rewards":[]}"#, "line 2", &["`responses`", "empty"]),
        (r#"{"prompt":"p","responses":["x"],"rewards":[1]}"#, "line 2", &["`responses`", "fewer"]),
        (r#"{"id":1.5,"prompt":"p","responses":["x","y"],"rewards":[1,2]}"#, "line 2", &["`id`", "string or an integer"]),
        (r#"{"id":{"a":1},"prompt":"p","responses":["x","y"],"rewards":[1,2]}"#, "line 2", &["`id`"]),
        (r#"{"prompt":"p","prompt":"q","responses":["x","y"],"rewards":[1,2]}"#, "line 2", &["`prompt`", "twice"]),
    ];
    for (bad, line, words) in cases {
        let input = format!("{good}\n{bad}\n{good}\n");
        let run = rso(&["sample", "-k", "2"], input.as_bytes());
        let message = run.stderr.clone();
        assert_eq!(run.code, (2), "{bad}: {message}");
        assert!(message.contains(line), "{bad}: {message}");
        for word in *words {
            assert!(message.contains(word), "{bad}: `{word}` not in {message}");
        }
        assert!(!message.contains("panicked"), "{bad}: {message}");
    }
    // Not UTF-8.
    let mut input = format!("{good}\n").into_bytes();
    input.extend_from_slice(b"{\"prompt\":\"\xff\xfe\",\"responses\":[\"x\",\"y\"],\"rewards\":[1,2]}\n");
    let run = rso(&["sample", "-k", "2"], &input);
    assert_eq!(run.code, 2);
    assert!(run.stderr.clone().contains("line 2"));
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let input = dump(2);
    for args in [
        vec!["sample", "--beta", "-1"],
        vec!["sample", "--beta", "nan"],
        vec!["sample", "--beta", "abc"],
        vec!["sample", "-k", "0"],
        vec!["sample", "-k", "-3"],
        vec!["sample", "--on-short", "maybe"],
        vec!["sample", "--backend", "tpu"],
        vec!["sample", "--block-size", "0"],
        vec!["sample", "--block-size", "4 parsecs"],
        vec!["sample", "--block-size", "99999999999G"],
    ] {
        let run = rso(&args, input.as_bytes());
        assert_eq!(run.code, (2), "{args:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
        assert!(run.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn custom_field_names() {
    let input = r#"{"qid":"z","input":"p","outputs":["a","b","c"],"scores":[3,2,1]}"#;
    let out = rows(&ok(
        &["sample", "-k", "2", "--beta", "0", "--id-field", "qid", "--prompt-field", "input",
          "--responses-field", "outputs", "--rewards-field", "scores", "-q"],
        format!("{input}\n").as_bytes(),
    ));
    assert_eq!(out[0]["id"], "z");
    assert_eq!(out[0]["prompt"], "p");
    assert_eq!(out[0]["samples"], serde_json::json!(["a", "b"]));
}

#[test]
fn help_explains_the_command() {
    let help = ok(&["sample", "--help"], b"");
    for word in ["--num-samples", "--beta", "--seed", "--on-short", "--dedup", "--backend", "Example"] {
        assert!(help.contains(word), "{word} missing from --help");
    }
}

#[test]
fn compressed_inputs_give_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let text = dump(200);
    let plain = dir.path().join("d.jsonl");
    std::fs::write(&plain, &text).unwrap();
    let (gz, zst) = write_compressed(dir.path(), "d.jsonl", &text);
    let want = ok(&["sample", plain.to_str().unwrap(), "-q"], b"");
    assert_eq!(ok(&["sample", gz.to_str().unwrap(), "-q"], b""), want);
    assert_eq!(ok(&["sample", zst.to_str().unwrap(), "-q"], b""), want);
    // A truncated archive is an error, not a short output.
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let run = rso(&["sample", gz.to_str().unwrap(), "-q"], b"");
    assert_ne!(run.code, 0);
}

#[test]
fn a_byte_order_mark_before_the_first_row_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let input = dump(20);
    let plain = ok(&["sample", "-q", "--backend", "cpu"], input.as_bytes());
    let with_bom = format!("\u{feff}{input}");
    // From stdin, and from a file (layout detected from the first row either way).
    assert_eq!(ok(&["sample", "-q", "--backend", "cpu"], with_bom.as_bytes()), plain);
    let path = write(dir.path(), "bom.jsonl", &with_bom);
    assert_eq!(ok(&["sample", "-q", "--backend", "cpu", path.to_str().unwrap()], b""), plain);
    // Long layout: texts are read back by file offset, which the mark shifts.
    let long: String = rows(&input)
        .iter()
        .flat_map(|row| {
            let n = row["responses"].as_array().unwrap().len();
            (0..n).map(move |i| {
                serde_json::json!({"id": row["id"], "prompt": row["prompt"], "response": row["responses"][i],
                    "reward": row["rewards"][i]})
                .to_string()
                    + "\n"
            })
        })
        .collect();
    let long_plain = write(dir.path(), "long.jsonl", &long);
    let long_bom = write(dir.path(), "long_bom.jsonl", &format!("\u{feff}{long}"));
    let a = ok(&["sample", "-q", "--backend", "cpu", long_plain.to_str().unwrap()], b"");
    let b = ok(&["sample", "-q", "--backend", "cpu", long_bom.to_str().unwrap()], b"");
    assert_eq!(a, b);
    assert_eq!(rows(&a).len(), 20);
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    use std::io::{BufRead, BufReader, Write};
    let input = dump(3000);
    let mut child = common::spawn(&["sample", "--backend", "cpu"]);
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    // Read one row, then close the pipe, like `rso sample ... | head -1`.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("{\"id\":\"q0\""), "{first}");
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn an_output_in_a_missing_folder_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no/such/folder/out.jsonl");
    let run = rso(&["sample", "-q", "--backend", "cpu", "-o", target.to_str().unwrap()], dump(3).as_bytes());
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("out.jsonl") && run.stderr.contains("does not exist"), "{}", run.stderr);
    assert!(!run.stderr.contains(".partial"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_partial_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.jsonl");
    let mut child = common::spawn(&["sample", "-q", "--backend", "cpu", "--block-size", "1K", "-o", target.to_str().unwrap()]);
    // Half the input, then wait with stdin open: the run is under way, its output pending.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(dump(400).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let partial = || {
        std::fs::read_dir(dir.path()).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().ends_with(".partial")).count()
    };
    let started = std::time::Instant::now();
    while partial() == 0 && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(partial(), 1, "the run should be writing its temporary file");
    let killed = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert_eq!(partial(), 0, "the temporary file must be gone");
    assert!(!target.exists());
}
