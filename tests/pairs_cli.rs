//! `rso sample --pairs`: TRL preference rows, per strategy, from the real binary.

mod common;

use common::{rows, rso};
use serde_json::{json, Value};

/// beta = 0 is greedy: acceptance order is by reward, ties by input order.
fn pairs(input: &str, k: &str, strategy: &str) -> (Vec<Value>, String) {
    let run = rso(&["sample", "-k", k, "--beta", "0", "--on-short", "all", "--pairs", strategy], input);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (rows(&run.stdout), run.stderr)
}

fn chosen_rejected(rows: &[Value]) -> Vec<(String, String)> {
    rows.iter()
        .map(|r| (r["chosen"].as_str().unwrap().to_string(), r["rejected"].as_str().unwrap().to_string()))
        .collect()
}

fn cr(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

const DUMP: &str = r#"{"id": "q1", "prompt": "Say hi", "responses": ["a", "b", "c", "d", "e"], "rewards": [0.1, 0.9, 0.5, 0.3, 0.7], "source": "test"}"#;

#[test]
fn strategies_on_a_hand_made_pool() {
    // Greedy acceptance order: b (0.9), e (0.7), c (0.5), d (0.3), a (0.1).
    let (first, _) = pairs(DUMP, "5", "first-round");
    assert_eq!(chosen_rejected(&first), cr(&[("b", "e"), ("c", "d")]));
    let (tour, _) = pairs(DUMP, "5", "tournament");
    // (b,e)->b, (c,d)->c, a bye; (b,c)->b, a bye; (b,a).
    assert_eq!(chosen_rejected(&tour), cr(&[("b", "e"), ("c", "d"), ("b", "c"), ("b", "a")]));
    let (bw, _) = pairs(DUMP, "5", "best-worst");
    assert_eq!(chosen_rejected(&bw), cr(&[("b", "a")]));
    // Even k: k/2 and k-1 pairs.
    assert_eq!(pairs(DUMP, "4", "first-round").0.len(), 2);
    assert_eq!(pairs(DUMP, "4", "tournament").0.len(), 3);
}

#[test]
fn trl_round_trip_standard_and_conversational() {
    let (rows, _) = pairs(DUMP, "2", "first-round");
    assert_eq!(rows.len(), 1);
    let row = rows[0].as_object().unwrap();
    assert_eq!(row["prompt"], json!("Say hi"));
    assert_eq!(row["chosen"], json!("b"));
    assert_eq!(row["rejected"], json!("e"));
    assert_eq!(row["chosen_reward"], json!(0.9));
    assert_eq!(row["rejected_reward"], json!(0.7));
    assert!((row["margin"].as_f64().unwrap() - 0.2).abs() < 1e-12);
    assert_eq!(row["id"], json!("q1"));
    assert_eq!(row["source"], json!("test"));
    let raw = rso(&["sample", "-k", "2", "--beta", "0", "--pairs", "first-round", "-q"], DUMP).stdout;
    assert!(raw.starts_with(r#"{"prompt":"Say hi","chosen":"b","rejected":"e","chosen_reward":0.9,"#), "{raw}");

    let chat = r#"{"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "h\u00e9llo \"you\""}], "responses": ["one\n", "tw\u00f6"], "rewards": [1, 2]}"#;
    let (rows, _) = pairs(chat, "2", "best-worst");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row["prompt"][1]["content"], json!("héllo \"you\""));
    assert_eq!(row["chosen"], json!([{"role": "assistant", "content": "twö"}]));
    assert_eq!(row["rejected"], json!([{"role": "assistant", "content": "one\n"}]));
    assert_eq!(row["margin"], json!(1.0));
    assert!(row.get("id").is_none());
}

#[test]
fn ties_and_identical_texts_give_no_pair_and_are_counted() {
    let dump = r#"{"prompt": "p", "responses": ["\u00e9", "é", "x", "y", "z", "w"], "rewards": [0.9, 0.8, 0.5, 0.5, 0.2, 0.1]}"#;
    // Acceptance order: é(0.9) é(0.8) x y z w -> (é,é) identical, (x,y) tie, (z,w) kept.
    let (rows, stderr) = pairs(dump, "6", "first-round");
    assert_eq!(chosen_rejected(&rows), cr(&[("z", "w")]));
    assert!(stderr.contains("1 pairs written; dropped 1 ties (equal rewards) and 1 with identical texts"), "{stderr}");
    // Tournament: round one as above (é and x advance, z wins); (é,x): é wins; (é,z).
    let (rows, _) = pairs(dump, "6", "tournament");
    assert_eq!(chosen_rejected(&rows), cr(&[("z", "w"), ("\u{e9}", "x"), ("\u{e9}", "z")]));
    // Odd k with first-round leaves the last sample out.
    let (rows, _) = pairs(dump, "5", "first-round");
    assert!(rows.is_empty());
}
