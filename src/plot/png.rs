//! The plot as a PNG: the layout rasterised at [`SCALE`] pixels per unit, lines and points
//! antialiased, texts in the built-in bitmap font (no system font is needed).

use super::{font, Anchor, Layout, SERIES};

/// Pixels per layout unit.
pub const SCALE: f64 = 2.0;

const WHITE: [u8; 3] = [255, 255, 255];
const INK: [u8; 3] = [0, 0, 0];

/// An RGB image being drawn, in pixels.
struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Self {
        Canvas { width, height, rgb: WHITE.repeat(width * height) }
    }

    /// Blends `color` over pixel (x, y) with opacity `alpha` (outside the image: nothing).
    fn blend(&mut self, x: i64, y: i64, color: [u8; 3], alpha: f64) {
        if x < 0 || y < 0 || x as usize >= self.width || y as usize >= self.height || alpha <= 0.0 {
            return;
        }
        let at = (y as usize * self.width + x as usize) * 3;
        let a = alpha.min(1.0);
        for (channel, &target) in self.rgb[at..at + 3].iter_mut().zip(&color) {
            let old = *channel as f64;
            *channel = (old + (target as f64 - old) * a).round() as u8;
        }
    }

    /// Paints every pixel whose centre lies within `reach` of the shape, with coverage
    /// from `distance` (pixels inside by more than half a pixel are fully painted).
    fn shape(&mut self, bounds: [f64; 4], reach: f64, color: [u8; 3], distance: impl Fn(f64, f64) -> f64) {
        let [x0, y0, x1, y1] = bounds;
        let (xa, xb) = ((x0 - reach - 1.0).floor() as i64, (x1 + reach + 1.0).ceil() as i64);
        let (ya, yb) = ((y0 - reach - 1.0).floor() as i64, (y1 + reach + 1.0).ceil() as i64);
        for y in ya.max(0)..=yb.min(self.height as i64 - 1) {
            for x in xa.max(0)..=xb.min(self.width as i64 - 1) {
                let d = distance(x as f64 + 0.5, y as f64 + 0.5);
                self.blend(x, y, color, (reach + 0.5 - d).clamp(0.0, 1.0));
            }
        }
    }

    /// A segment `width` pixels wide.
    fn segment(&mut self, (ax, ay): (f64, f64), (bx, by): (f64, f64), width: f64, color: [u8; 3]) {
        let (dx, dy) = (bx - ax, by - ay);
        let len2 = dx * dx + dy * dy;
        let bounds = [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)];
        self.shape(bounds, width / 2.0, color, |x, y| {
            let t = if len2 == 0.0 { 0.0 } else { (((x - ax) * dx + (y - ay) * dy) / len2).clamp(0.0, 1.0) };
            ((x - ax - t * dx).powi(2) + (y - ay - t * dy).powi(2)).sqrt()
        });
    }

    /// A filled disc.
    fn disc(&mut self, (cx, cy): (f64, f64), radius: f64, color: [u8; 3]) {
        self.shape([cx, cy, cx, cy], radius, color, |x, y| ((x - cx).powi(2) + (y - cy).powi(2)).sqrt());
    }

    /// A text in the bitmap font, each font pixel `px` pixels square, anchored on its
    /// baseline at (x, y); a vertical one reads bottom to top.
    fn text(&mut self, x: f64, y: f64, text: &str, anchor: Anchor, px: i64, vertical: bool) {
        let advance = font::ADVANCE as i64 * px;
        let width = text.chars().count() as i64 * advance - px;
        let start = match anchor {
            Anchor::Start => 0,
            Anchor::Middle => -width / 2,
            Anchor::End => -width,
        };
        let (ox, oy) = (x.round() as i64, y.round() as i64);
        for (n, c) in text.chars().enumerate() {
            let glyph = font::glyph(c).unwrap_or(font::MISSING);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..font::WIDTH {
                    if bits & (1 << (font::WIDTH - 1 - col)) == 0 {
                        continue;
                    }
                    // Along the text and up from the baseline, in pixels.
                    let along = start + n as i64 * advance + col as i64 * px;
                    let up = (font::BASELINE as i64 + 1 - row as i64) * px;
                    for i in 0..px {
                        for j in 0..px {
                            let (a, u) = (along + i, up - j);
                            let (x, y) = if vertical { (ox - u, oy - a) } else { (ox + a, oy - u) };
                            self.blend(x, y, INK, 1.0);
                        }
                    }
                }
            }
        }
    }
}

/// The size of the PNG of `layout`, in pixels.
pub fn size(layout: &Layout) -> (u32, u32) {
    ((layout.width * SCALE).round() as u32, (layout.height * SCALE).round() as u32)
}

/// Where a point in units falls in the PNG, in pixels (column, row).
pub fn pixel(x: f64, y: f64) -> (u32, u32) {
    ((x * SCALE).floor() as u32, (y * SCALE).floor() as u32)
}

/// The RGB pixels of `layout`, row by row.
pub fn rasterise(layout: &Layout) -> (u32, u32, Vec<u8>) {
    let (w, h) = size(layout);
    let mut canvas = Canvas::new(w as usize, h as usize);
    let at = |x: f64, y: f64| (x * SCALE, y * SCALE);
    for l in &layout.lines {
        canvas.segment(at(l.x1, l.y1), at(l.x2, l.y2), SCALE, INK);
    }
    for pair in layout.points.windows(2) {
        canvas.segment(at(pair[0].x, pair[0].y), at(pair[1].x, pair[1].y), SCALE, SERIES);
    }
    for p in &layout.points {
        canvas.disc(at(p.x, p.y), layout.point_radius * SCALE, SERIES);
    }
    for t in &layout.texts {
        // A font pixel per 8 units of font size at this scale: 12 -> 3 pixels, 14 -> 4.
        let px = (t.size * SCALE / 8.0).round().max(1.0) as i64;
        let (x, y) = at(t.x, t.y);
        canvas.text(x, y, &t.text, t.anchor, px, t.vertical);
    }
    (w, h, canvas.rgb)
}

/// The PNG file of `layout` (8-bit RGB).
pub fn render(layout: &Layout) -> Vec<u8> {
    let (w, h, rgb) = rasterise(layout);
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, w, h);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    // Writing to memory cannot fail, and the data has exactly the declared size.
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(&rgb).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}
