//! Long-format dumps: interleaved like OpenRLHF's, same samples as the equivalent wide dump.

mod common;

use common::{rows, rso, write, write_compressed, Lcg};
use serde_json::{json, Value};

/// A dump of `prompts` pools (ragged sizes, a few duplicate texts) in both layouts. The
/// long one is interleaved `prompts * N`: round j writes candidate j of every prompt.
fn dumps(prompts: usize, with_id: bool, names: (&str, &str, &str)) -> (String, String) {
    let mut rng = Lcg(11);
    let mut pools = Vec::new();
    for p in 0..prompts {
        let n = 3 + (rng.next() % 10) as usize;
        let mut texts: Vec<String> = Vec::new();
        let mut rewards = Vec::new();
        for j in 0..n {
            if j > 0 && rng.next().is_multiple_of(5) {
                let t = texts[(rng.next() as usize) % j].clone();
                texts.push(t);
            } else {
                texts.push(format!("answer {p}.{j} \"q\" é\n"));
            }
            rewards.push(rng.reward());
        }
        let prompt = if p % 3 == 0 {
            json!([{"role": "user", "content": format!("question {p}")}])
        } else {
            json!(format!("question {p} ünï"))
        };
        pools.push((prompt, texts, rewards));
    }
    let mut wide = String::new();
    for (p, (prompt, texts, rewards)) in pools.iter().enumerate() {
        let mut row = json!({"prompt": prompt, "responses": texts, "rewards": rewards});
        if with_id {
            row["id"] = json!(format!("q{p}"));
        }
        wide += &format!("{row}\n");
    }
    let mut long = String::new();
    let most = pools.iter().map(|p| p.1.len()).max().unwrap();
    for j in 0..most {
        for (p, (prompt, texts, rewards)) in pools.iter().enumerate() {
            if j >= texts.len() {
                continue;
            }
            let mut row = serde_json::Map::new();
            if with_id {
                row.insert("id".into(), json!(format!("q{p}")));
            }
            row.insert(names.0.into(), prompt.clone());
            row.insert(names.1.into(), json!(texts[j]));
            row.insert(names.2.into(), json!(rewards[j]));
            long += &format!("{}\n", Value::Object(row));
        }
    }
    (wide, long)
}

fn same_samples(wide: &str, long: &str) {
    let (w, l) = (rows(wide), rows(long));
    assert!(!w.is_empty());
    assert_eq!(w.len(), l.len());
    for (a, b) in w.iter().zip(&l) {
        assert_eq!(a, b);
    }
}

#[test]
fn interleaved_long_dump_gives_the_wide_samples() {
    let dir = tempfile::tempdir().unwrap();
    for with_id in [true, false] {
        let (wide, long) = dumps(300, with_id, ("prompt", "response", "reward"));
        let w = write(dir.path(), "w.jsonl", &wide);
        let l = write(dir.path(), "l.jsonl", &long);
        for extra in [&["--beta", "0.5"][..], &["--beta", "0"], &["--beta", "inf"], &["--dedup", "--beta", "0.3"]] {
            let mut args = vec!["sample", "-k", "4", "--on-short", "all", "--seed", "9", "-q"];
            args.extend_from_slice(extra);
            let mut wa = args.clone();
            wa.push(w.to_str().unwrap());
            let mut la = args.clone();
            la.extend_from_slice(&[l.to_str().unwrap(), "--block-size", "4096"]);
            let a = rso(&wa, "");
            let b = rso(&la, "");
            assert_eq!(a.code, 0, "{}", a.stderr);
            assert_eq!(b.code, 0, "{}", b.stderr);
            same_samples(&a.stdout, &b.stdout);
            // Pairs too, and stdin (spilled to a temporary file).
            la.extend_from_slice(&["--pairs", "tournament"]);
            wa.extend_from_slice(&["--pairs", "tournament"]);
            let a = rso(&wa, "");
            la.retain(|x| *x != l.to_str().unwrap());
            let b = rso(&la, &long);
            assert_eq!(b.code, 0, "{}", b.stderr);
            same_samples(&a.stdout, &b.stdout);
        }
    }
}

#[test]
fn on_short_and_skip_work_in_the_long_layout() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, long) = dumps(50, true, ("prompt", "response", "reward"));
    let w = write(dir.path(), "w.jsonl", &wide);
    let l = write(dir.path(), "l.jsonl", &long);
    let a = rso(&["sample", "-k", "8", "--on-short", "skip", w.to_str().unwrap()], "");
    let b = rso(&["sample", "-k", "8", "--on-short", "skip", l.to_str().unwrap()], "");
    assert_eq!(b.code, 0, "{}", b.stderr);
    same_samples(&a.stdout, &b.stdout);
    assert!(b.stderr.contains("skipped"), "{}", b.stderr);
    let c = rso(&["sample", "-k", "8", l.to_str().unwrap()], "");
    assert_eq!(c.code, 2);
    assert!(c.stderr.contains("field `response`") && c.stderr.contains("fewer than --num-samples 8"), "{}", c.stderr);
}

#[test]
fn openrlhf_preset_reads_input_output_reward() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, long) = dumps(40, false, ("input", "output", "reward"));
    let w = write(dir.path(), "w.jsonl", &wide);
    let l = write(dir.path(), "l.jsonl", &long);
    let a = rso(&["sample", "-k", "3", w.to_str().unwrap()], "");
    let b = rso(&["sample", "-k", "3", "--preset", "openrlhf", l.to_str().unwrap()], "");
    assert_eq!(b.code, 0, "{}", b.stderr);
    same_samples(&a.stdout, &b.stdout);
    // The same names through the field flags, layout detected.
    let c = rso(
        &["sample", "-k", "3", "--prompt-field", "input", "--response-field", "output", l.to_str().unwrap()],
        "",
    );
    assert_eq!(c.code, 0, "{}", c.stderr);
    same_samples(&a.stdout, &c.stdout);
}

fn fails(input: &str, args: &[&str], needles: &[&str]) {
    let mut all = vec!["sample", "-k", "1"];
    all.extend_from_slice(args);
    let run = rso(&all, input);
    assert_eq!(run.code, 2, "{input}: {}", run.stderr);
    for needle in needles {
        assert!(run.stderr.contains(needle), "{input}: want `{needle}` in: {}", run.stderr);
    }
}

#[test]
fn bad_long_rows_give_clear_errors() {
    let ok = r#"{"id":"a","prompt":"p","response":"x","reward":1.5}"#;
    // A row missing its response, its reward or its prompt.
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"p\",\"reward\":1}}\n"), &[], &["line 2", "field `response`", "missing"]);
    fails(&format!("{ok}\n\n{{\"id\":\"a\",\"prompt\":\"p\",\"response\":\"y\"}}\n"), &[], &["line 3", "field `reward`", "missing"]);
    fails(&format!("{ok}\n{{\"id\":\"b\",\"response\":\"y\",\"reward\":1}}\n"), &[], &["line 2", "field `prompt`", "missing"]);
    // A pool split across different reward types: a number, then a string, then a list.
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"p\",\"response\":\"y\",\"reward\":\"0.5\"}}\n"), &[], &["line 2", "field `reward`", "not a number"]);
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"p\",\"response\":\"y\",\"reward\":[0.5]}}\n"), &[], &["line 2", "field `reward`", "not a number"]);
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"p\",\"response\":\"y\",\"reward\":null}}\n"), &[], &["line 2", "field `reward`"]);
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"p\",\"response\":\"y\",\"reward\":1e300}}\n"), &[], &["line 2", "field `reward`", "finite"]);
    // A response that is not a string.
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"p\",\"response\":3,\"reward\":1}}\n"), &[], &["line 2", "field `response`", "string"]);
    // Rows of one id with different prompts.
    fails(&format!("{ok}\n{{\"id\":\"a\",\"prompt\":\"q\",\"response\":\"y\",\"reward\":1}}\n"), &[], &["line 2", "field `prompt`", "line 1"]);
    // Not JSON.
    fails(&format!("{ok}\n{{\"id\":\"a\",\n"), &["--layout", "long"], &["line 2"]);
    // Ambiguous or unknown layouts ask for --layout.
    fails("{\"prompt\":\"p\",\"response\":\"x\",\"responses\":[\"x\"]}\n", &[], &["--layout"]);
    fails("{\"prompt\":\"p\",\"text\":\"x\"}\n", &[], &["--layout"]);
    // A wide dump read as long names the missing field.
    fails("{\"prompt\":\"p\",\"responses\":[\"x\"],\"rewards\":[1]}\n", &["--layout", "long"], &["line 1", "field `response`"]);
}

/// The other fields of a prompt's first long row are carried like a wide row's: the
/// wide dump with each prompt's first-row fields gives the same rows, samples and pairs.
#[test]
fn first_row_fields_are_carried_like_wide_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (wide, long) = dumps(120, true, ("prompt", "response", "reward"));
    let mut wide_rows = rows(&wide);
    for (p, row) in wide_rows.iter_mut().enumerate() {
        if p % 4 != 3 {
            row["source"] = json!({"model": "x", "prompt": p, "text": "é \"q\""});
            row["tags"] = json!([p, null]);
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut long_rows = rows(&long);
    for row in long_rows.iter_mut() {
        let p: usize = row["id"].as_str().unwrap()[1..].parse().unwrap();
        if seen.insert(p) {
            if p % 4 != 3 {
                row["source"] = json!({"model": "x", "prompt": p, "text": "é \"q\""});
                row["tags"] = json!([p, null]);
            }
        } else {
            // Later rows' other fields are not carried.
            row["source"] = json!("a later row");
            row["late"] = json!(true);
        }
    }
    let text = |rows: &[Value]| rows.iter().map(|r| format!("{r}\n")).collect::<String>();
    let w = write(dir.path(), "w.jsonl", &text(&wide_rows));
    let l = write(dir.path(), "l.jsonl", &text(&long_rows));
    for mode in [&[][..], &["--pairs", "first-round"], &["--pairs", "tournament", "--dedup"]] {
        let mut args = vec!["sample", "-k", "4", "--on-short", "all", "--seed", "3", "-q", "--block-size", "4096"];
        args.extend_from_slice(mode);
        let mut wa = args.clone();
        wa.push(w.to_str().unwrap());
        let mut la = args.clone();
        la.push(l.to_str().unwrap());
        let a = rso(&wa, "");
        let b = rso(&la, "");
        assert_eq!(a.code, 0, "{}", a.stderr);
        assert_eq!(b.code, 0, "{}", b.stderr);
        same_samples(&a.stdout, &b.stdout);
        let out = rows(&b.stdout);
        assert!(out.iter().any(|r| r["source"]["model"] == "x"));
        assert!(out.iter().all(|r| r.get("late").is_none() && r["source"] != json!("a later row")));
    }
}

#[test]
fn compressed_long_dumps_give_the_same_output() {
    let dir = tempfile::tempdir().unwrap();
    let (_, long) = dumps(60, true, ("prompt", "response", "reward"));
    let plain = write(dir.path(), "l.jsonl", &long);
    let (gz, zst) = write_compressed(dir.path(), "l.jsonl", &long);
    let sample = |path: &std::path::Path| {
        rso(&["sample", "-q", "--backend", "cpu", "-k", "4", "--on-short", "all", path.to_str().unwrap()], b"")
    };
    let want = sample(&plain).stdout;
    assert_eq!(rows(&want).len(), 60);
    for compressed in [&gz, &zst] {
        let run = sample(compressed);
        assert_eq!((run.code, run.stdout), (0, want.clone()), "{}", run.stderr);
    }
    // A truncated archive is an error naming the input, not a short output.
    let bytes = std::fs::read(&gz).unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let failed = sample(&gz);
    assert_ne!(failed.code, 0);
    assert!(failed.stderr.contains("l.jsonl.gz"), "{}", failed.stderr);
}

#[cfg(unix)]
#[test]
fn a_long_dump_from_a_named_pipe_is_spilled_and_sampled() {
    let dir = tempfile::tempdir().unwrap();
    let (_, long) = dumps(40, true, ("prompt", "response", "reward"));
    let plain = write(dir.path(), "l.jsonl", &long);
    let fifo = dir.path().join("l.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.map(|s| s.success()).unwrap_or(false) {
        eprintln!("mkfifo unavailable: skipped");
        return;
    }
    let sample = |path: &std::path::Path| {
        rso(&["sample", "-q", "--backend", "cpu", "-k", "4", "--on-short", "all", "--layout", "long", path.to_str().unwrap()], b"")
    };
    let want = sample(&plain);
    let writer = {
        let (fifo, long) = (fifo.clone(), long.clone());
        std::thread::spawn(move || std::fs::write(fifo, long).unwrap())
    };
    let got = sample(&fifo);
    writer.join().unwrap();
    assert_eq!(got.code, 0, "{}", got.stderr);
    assert_eq!(got.stdout, want.stdout);
}
