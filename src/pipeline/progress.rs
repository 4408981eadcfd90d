//! The progress bar on stderr.

/// A progress bar on stderr (only when asked for, i.e. stderr is a terminal).
#[derive(Clone)]
pub(super) struct Progress(Option<indicatif::ProgressBar>);

/// The long layout's two passes on the progress bar: bytes indexed, then prompts written.
pub(super) const LONG_INDEX_STYLE: &str = "pass 1/2 {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}";
pub(super) const LONG_SAMPLE_STYLE: &str = "pass 2/2 {bar:40} {pos}/{len} prompts {per_sec} eta {eta}";

pub(super) fn progress_style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
}

impl Progress {
    pub(super) fn new(enabled: bool, total: Option<u64>) -> Self {
        if !enabled {
            return Progress(None);
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n)
                .with_style(progress_style("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")),
            None => indicatif::ProgressBar::new_spinner(),
        };
        Progress(Some(bar))
    }

    /// Starts the bar over for a new stage of `len` units (`None`: keep the length), drawn
    /// with `template`.
    pub(super) fn stage(&self, len: Option<u64>, template: &str) {
        if let Some(bar) = &self.0 {
            if bar.length().is_some() {
                bar.set_style(progress_style(template));
            }
            if let Some(len) = len {
                bar.set_length(len);
                bar.set_style(progress_style(template));
            }
            bar.reset();
        }
    }

    pub(super) fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
