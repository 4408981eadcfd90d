//! The plot as a standalone SVG.

use super::{Anchor, Layout, SERIES};

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The SVG text of `layout`.
pub fn render(layout: &Layout) -> String {
    let (w, h) = (layout.width, layout.height);
    let color = format!("#{:02x}{:02x}{:02x}", SERIES[0], SERIES[1], SERIES[2]);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    for l in &layout.lines {
        svg += &format!(
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"black\"/>\n",
            l.x1, l.y1, l.x2, l.y2
        );
    }
    let line: Vec<String> = layout.points.iter().map(|p| format!("{:.1},{:.1}", p.x, p.y)).collect();
    svg += &format!("<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\"/>\n", line.join(" "));
    for p in &layout.points {
        svg += &format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{color}\"/>\n", p.x, p.y, layout.point_radius);
    }
    for t in &layout.texts {
        let anchor = match t.anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let rotate = if t.vertical { format!(" transform=\"rotate(-90 {:.1} {:.1})\"", t.x, t.y) } else { String::new() };
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"{}\"{rotate}>{}</text>\n",
            t.x,
            t.y,
            t.size,
            escape_xml(&t.text)
        );
    }
    svg += "</svg>\n";
    svg
}
