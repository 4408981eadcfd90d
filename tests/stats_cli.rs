//! `rso stats`: numbers checked against a direct computation on small pools.

mod common;

use common::{rso, write, Lcg};
use serde_json::{json, Value};

fn pools() -> Vec<Vec<f64>> {
    let mut rng = Lcg(5);
    (0..40).map(|_| (0..(2 + rng.next() % 9)).map(|_| rng.reward()).collect()).collect()
}

fn close(a: &Value, b: f64) -> bool {
    let a = a.as_f64().unwrap();
    (a - b).abs() <= 1e-6 * (1.0 + b.abs())
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn stats_match_a_direct_computation() {
    let pools = pools();
    let mut wide = String::new();
    let mut long = String::new();
    for (p, pool) in pools.iter().enumerate() {
        let texts: Vec<String> = (0..pool.len()).map(|i| format!("r{i}")).collect();
        wide += &format!("{}\n", json!({"id": p, "prompt": format!("p{p}"), "responses": texts, "rewards": pool}));
        for (i, r) in pool.iter().enumerate() {
            long += &format!("{}\n", json!({"id": p, "prompt": format!("p{p}"), "response": format!("r{i}"), "reward": r}));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let w = write(dir.path(), "w.jsonl", &wide);
    let l = write(dir.path(), "l.jsonl", &long);
    let svg = dir.path().join("beta.svg");
    let k = 4usize;
    let run = rso(&["stats", w.to_str().unwrap(), "-k", "4", "--beta", "0,0.5,2,inf", "--json", "--plot", svg.to_str().unwrap()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    let long_run = rso(&["stats", l.to_str().unwrap(), "-k", "4", "--beta", "0,0.5,2,inf", "--json"], "");
    assert_eq!(long_run.code, 0, "{}", long_run.stderr);
    assert_eq!(out, serde_json::from_str::<Value>(&long_run.stdout).unwrap(), "long and wide differ");
    assert_eq!(out["prompts"], json!(40));
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("β=0.5") && svg.contains("β=inf"));

    let r32 = |r: f64| r as f32 as f64;
    let pool_mean = mean(pools.iter().map(|p| mean(p.iter().map(|&r| r32(r)))));
    let short = pools.iter().filter(|p| p.len() < k).count() as f64 / pools.len() as f64;
    for (row, beta) in out["betas"].as_array().unwrap().iter().zip([0.0, 0.5, 2.0, f64::INFINITY]) {
        assert!(close(&row["pool_mean"], pool_mean));
        assert!(close(&row["short_fraction"], short));
        let (mut kl, mut acc) = (Vec::new(), Vec::new());
        for pool in &pools {
            let r: Vec<f64> = pool.iter().map(|&x| r32(x)).collect();
            let n = r.len() as f64;
            let max = r.iter().copied().fold(f64::MIN, f64::max);
            let w: Vec<f64> = r
                .iter()
                .map(|&x| if x == max { 1.0 } else if beta == 0.0 { 0.0 } else { ((x - max) / beta).exp() })
                .collect();
            let z: f64 = w.iter().sum();
            acc.push(z / n);
            kl.push(w.iter().filter(|&&wi| wi > 0.0).map(|wi| (wi / z) * ((wi / z) * n).ln()).sum::<f64>());
        }
        assert!(close(&row["acceptance_rate"], mean(acc.into_iter())), "beta {beta}");
        assert!(close(&row["kl"], mean(kl.into_iter())), "beta {beta}");
        // The limits select deterministically: greedy top-k and the first k.
        if beta == 0.0 || beta.is_infinite() {
            let selected: Vec<Vec<f64>> = pools
                .iter()
                .map(|p| {
                    let mut r: Vec<f64> = p.iter().map(|&x| r32(x)).collect();
                    if beta == 0.0 {
                        r.sort_by(|a, b| b.total_cmp(a));
                    }
                    r.truncate(k);
                    r
                })
                .collect();
            let sel_mean = mean(selected.iter().map(|s| mean(s.iter().copied())));
            let sel_std = mean(selected.iter().map(|s| {
                let m = mean(s.iter().copied());
                mean(s.iter().map(|x| (x - m) * (x - m))).sqrt()
            }));
            assert!(close(&row["selected_mean"], sel_mean), "beta {beta}");
            assert!(close(&row["selected_std"], sel_std), "beta {beta}");
            assert!(close(&row["gain"], sel_mean - pool_mean));
            let rounds = if beta == 0.0 { mean(pools.iter().map(|p| p.len().min(k) as f64)) } else { 1.0 };
            assert!(close(&row["mean_rounds"], rounds), "beta {beta}");
        }
    }
}

#[test]
fn stats_table_and_bad_plot_name() {
    let dump = "{\"prompt\":\"p\",\"responses\":[\"a\",\"b\"],\"rewards\":[0,1]}\n";
    let run = rso(&["stats", "-k", "2", "--beta", "0.5,1"], dump);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("kl") && run.stdout.lines().count() == 4, "{}", run.stdout);
    let run = rso(&["stats", "--plot", "out.jpg"], dump);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".svg") && run.stderr.contains(".png"), "{}", run.stderr);
    let run = rso(&["stats", "--beta", "-1"], dump);
    assert_eq!(run.code, 2);
}

/// Decodes a PNG file: (width, height, RGB rows).
fn decode_png(path: &std::path::Path) -> (u32, u32, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgb, png::BitDepth::Eight));
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn png_plot_has_the_points_of_the_layout() {
    let pools = pools();
    let mut wide = String::new();
    for (p, pool) in pools.iter().enumerate() {
        let texts: Vec<String> = (0..pool.len()).map(|i| format!("r{i}")).collect();
        wide += &format!("{}\n", json!({"id": p, "prompt": format!("p{p}"), "responses": texts, "rewards": pool}));
    }
    let dir = tempfile::tempdir().unwrap();
    let w = write(dir.path(), "w.jsonl", &wide);
    let png_path = dir.path().join("beta.PNG");
    let svg_path = dir.path().join("beta.svg");
    let betas = "0,0.1,0.5,2,inf";
    let run = rso(&["stats", w.to_str().unwrap(), "-k", "4", "--beta", betas, "--json", "--plot", png_path.to_str().unwrap()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run_svg = rso(&["stats", w.to_str().unwrap(), "-k", "4", "--beta", betas, "--plot", svg_path.to_str().unwrap()], "");
    assert_eq!(run_svg.code, 0, "{}", run_svg.stderr);

    // The same layout the command drew, from the numbers it printed.
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    let stats: Vec<rso::stats::BetaStats> = out["betas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| rso::stats::BetaStats {
            beta: if b["beta"] == json!("inf") { f32::INFINITY } else { b["beta"].as_f64().unwrap() as f32 },
            selected_mean: b["selected_mean"].as_f64().unwrap(),
            selected_std: b["selected_std"].as_f64().unwrap(),
            pool_mean: b["pool_mean"].as_f64().unwrap(),
            gain: b["gain"].as_f64().unwrap(),
            acceptance_rate: b["acceptance_rate"].as_f64().unwrap(),
            mean_rounds: b["mean_rounds"].as_f64().unwrap(),
            short_fraction: b["short_fraction"].as_f64().unwrap(),
            kl: b["kl"].as_f64().unwrap(),
        })
        .collect();
    let layout = rso::plot::layout(&stats);
    assert_eq!(layout.points.len(), 5);
    // The SVG shows the same layout.
    assert_eq!(std::fs::read_to_string(&svg_path).unwrap(), rso::plot::svg::render(&layout));

    let (width, height, rgb) = decode_png(&png_path);
    assert_eq!((width, height), rso::plot::png::size(&layout));
    assert_eq!(rgb.len(), (width * height * 3) as usize);
    let at = |x: u32, y: u32| {
        let i = ((y * width + x) * 3) as usize;
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    };
    let dark = |p: [u8; 3]| p.iter().map(|&c| c as u32).sum::<u32>() < 3 * 160;
    for point in &layout.points {
        let (x, y) = rso::plot::png::pixel(point.x, point.y);
        // The point's centre and its neighbours are the series colour.
        for (dx, dy) in [(0i32, 0i32), (-2, 0), (2, 0), (0, -2), (0, 2)] {
            let p = at((x as i32 + dx) as u32, (y as i32 + dy) as u32);
            assert_eq!(p, rso::plot::SERIES, "beta {} at ({x}, {y})", point.beta);
            assert!(dark(p));
        }
    }
    // The background is white, the axes and tick labels are drawn.
    assert_eq!(at(1, 1), [255, 255, 255]);
    assert_eq!(at(width - 2, height - 2), [255, 255, 255]);
    let axis = &layout.lines[0];
    let (x, y) = rso::plot::png::pixel((axis.x1 + axis.x2) / 2.0, axis.y1);
    assert!(dark(at(x, y)));
    let dark_pixels = rgb.chunks(3).filter(|p| dark([p[0], p[1], p[2]])).count();
    assert!(dark_pixels > 5000, "{dark_pixels} dark pixels");
}
