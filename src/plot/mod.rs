//! The plot of `rso stats --plot`: reward gain against KL, one labelled point per beta,
//! joined in order of KL.
//!
//! [`layout`] decides once what goes where (in SVG user units, 640 x 420); [`svg`] writes
//! it as SVG text and [`png`] rasterises it (at [`png::SCALE`] pixels per unit, with a
//! built-in bitmap font, so no system font is needed). Both formats show the same thing.

mod font;
pub mod png;
pub mod svg;

use crate::stats::{beta_text, BetaStats};

/// How a text is placed relative to its anchor point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// A text: `(x, y)` is its anchor on the baseline; a vertical text reads bottom to top,
/// rotated about its anchor.
#[derive(Clone, Debug, PartialEq)]
pub struct Text {
    pub x: f64,
    pub y: f64,
    pub text: String,
    pub anchor: Anchor,
    /// Font size in units.
    pub size: f64,
    pub vertical: bool,
}

/// A straight black line, one unit wide.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

/// One beta's point, in units (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub beta: f32,
}

/// Everything the plot draws, in units.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Axes and tick marks.
    pub lines: Vec<Line>,
    /// Title, axis titles, tick labels and point labels.
    pub texts: Vec<Text>,
    /// The points, in order of KL (the connecting line follows this order).
    pub points: Vec<Point>,
    pub point_radius: f64,
}

/// The series' colour (points and the connecting line).
pub const SERIES: [u8; 3] = [0x44, 0x77, 0xaa];

const TEXT_SIZE: f64 = 12.0;
const TITLE_SIZE: f64 = 14.0;

/// Lays out the plot of `stats`. Betas whose KL or gain is not finite are left out.
pub fn layout(stats: &[BetaStats]) -> Layout {
    let (w, h) = (640.0, 420.0);
    let (left, right, top, bottom) = (80.0, 30.0, 40.0, 55.0);
    let span = |values: Vec<f64>| {
        let lo = values.iter().copied().fold(0.0f64, f64::min);
        let hi = values.iter().copied().fold(0.0f64, f64::max);
        let pad = ((hi - lo) * 0.05).max(1e-6);
        nice_axis(lo - if lo < 0.0 { pad } else { 0.0 }, hi + pad)
    };
    let mut chosen: Vec<&BetaStats> = stats.iter().filter(|s| s.kl.is_finite() && s.gain.is_finite()).collect();
    chosen.sort_by(|a, b| a.kl.total_cmp(&b.kl));
    let x_axis_ticks = span(chosen.iter().map(|s| s.kl).collect());
    let y_axis_ticks = span(chosen.iter().map(|s| s.gain).collect());
    let (x0, x1) = (x_axis_ticks[0], x_axis_ticks[x_axis_ticks.len() - 1]);
    let (y0, y1) = (y_axis_ticks[0], y_axis_ticks[y_axis_ticks.len() - 1]);
    let px = |x: f64| left + (x - x0) / (x1 - x0) * (w - left - right);
    let py = |y: f64| h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom);
    let text = |x: f64, y: f64, text: String, anchor: Anchor| Text { x, y, text, anchor, size: TEXT_SIZE, vertical: false };

    let mut texts = vec![Text {
        size: TITLE_SIZE,
        ..text(w / 2.0, 22.0, "Reward gain vs. KL(softmax(r/beta) || uniform)".into(), Anchor::Middle)
    }];
    let (x_axis, y_axis) = (h - bottom, left);
    let mut lines = vec![
        Line { x1: left, y1: x_axis, x2: w - right, y2: x_axis },
        Line { x1: y_axis, y1: top, x2: y_axis, y2: x_axis },
    ];
    for &x in &x_axis_ticks {
        lines.push(Line { x1: px(x), y1: x_axis, x2: px(x), y2: x_axis + 5.0 });
        texts.push(text(px(x), x_axis + 18.0, tick_text(x), Anchor::Middle));
    }
    for &y in &y_axis_ticks {
        lines.push(Line { x1: left, y1: py(y), x2: left - 5.0, y2: py(y) });
        texts.push(text(left - 8.0, py(y) + 4.0, tick_text(y), Anchor::End));
    }
    texts.push(text((left + w - right) / 2.0, h - 12.0, "KL (nats, mean over prompts)".into(), Anchor::Middle));
    texts.push(Text {
        vertical: true,
        ..text(14.0, (top + h - bottom) / 2.0, "reward gain over the pool mean".into(), Anchor::Middle)
    });
    let points: Vec<Point> = chosen.iter().map(|s| Point { x: px(s.kl), y: py(s.gain), beta: s.beta }).collect();
    for p in &points {
        texts.push(text(p.x + 6.0, p.y - 6.0, format!("β={}", beta_text(p.beta)), Anchor::Start));
    }
    Layout { width: w, height: h, lines, texts, points, point_radius: 4.0 }
}

/// Ticks for an axis covering `lo..hi`: about five round values (steps of 1, 2 or 5 times
/// a power of ten) from a multiple of the step at or below `lo` to one at or above `hi`.
fn nice_axis(lo: f64, hi: f64) -> Vec<f64> {
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|&s| s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() as i64;
    let last = ((hi / step).ceil() as i64).max(first + 1);
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick's label: as few decimals as the value needs (at most 6).
fn tick_text(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn stats(points: &[(f32, f64, f64)]) -> Vec<BetaStats> {
        points
            .iter()
            .map(|&(beta, kl, gain)| BetaStats {
                beta,
                selected_mean: gain,
                selected_std: 0.0,
                pool_mean: 0.0,
                gain,
                acceptance_rate: 1.0,
                mean_rounds: 1.0,
                short_fraction: 0.0,
                kl,
            })
            .collect()
    }

    #[test]
    fn axes_have_round_ticks_covering_the_data() {
        assert_eq!(nice_axis(0.0, 3.2), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_axis(0.0, 1.29), vec![0.0, 0.5, 1.0, 1.5]);
        let ticks = nice_axis(-0.013, 0.041);
        assert_eq!(ticks.first().map(|t| (t * 100.0).round()), Some(-2.0));
        assert!(*ticks.last().unwrap() >= 0.041 && ticks.len() >= 4 && ticks.len() <= 8, "{ticks:?}");
        assert_eq!(tick_text(0.5), "0.5");
        assert_eq!(tick_text(2.0), "2");
        assert_eq!(tick_text(-0.0), "0");
        assert_eq!(tick_text(0.02), "0.02");
    }

    #[test]
    fn points_fall_inside_the_axes_in_kl_order() {
        let s = stats(&[(2.0, 0.1, 0.2), (0.1, 1.5, 0.9), (0.5, 0.6, 0.5), (1.0, f64::NAN, 0.3)]);
        let l = layout(&s);
        let betas: Vec<f32> = l.points.iter().map(|p| p.beta).collect();
        assert_eq!(betas, vec![2.0, 0.5, 0.1]);
        for p in &l.points {
            assert!(p.x > 80.0 && p.x < 610.0 && p.y > 40.0 && p.y < 365.0, "{p:?}");
        }
        assert!(l.points.windows(2).all(|w| w[0].x < w[1].x && w[0].y > w[1].y));
        assert!(l.texts.iter().any(|t| t.text == "β=0.5"));
    }

    #[test]
    fn every_text_has_glyphs() {
        let s = stats(&[(0.0, 1.2, -0.5), (f32::INFINITY, 0.0, 0.0), (0.125, 0.7, 0.25)]);
        for t in layout(&s).texts {
            for c in t.text.chars() {
                assert!(font::glyph(c).is_some(), "no glyph for {c:?} in {:?}", t.text);
            }
        }
    }
}
