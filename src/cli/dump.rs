//! Options shared by the commands that read a candidate dump: layout, preset, field names.

use clap::Args;

use crate::io::layout::{Layout, Preset};
use crate::io::long::LongFields;
use crate::io::wide::WideFields;
use crate::pipeline::SampleJob;

#[derive(Args, Debug, Clone)]
pub struct DumpArgs {
    /// Input layout: wide (one row per prompt), long (one row per response), or auto
    /// (detected from the first row).
    #[arg(long, value_enum, default_value_t = Layout::Auto)]
    pub layout: Layout,
    /// Field names of a known tool's dumps. openrlhf: long rows {"input", "output", "reward"}
    /// (OpenRLHF batch inference). Field flags given explicitly win over the preset.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Field holding the prompt (any JSON value, passed through) [default: prompt].
    #[arg(long)]
    pub prompt_field: Option<String>,
    /// Wide layout: field holding the array of response strings.
    #[arg(long, default_value = "responses")]
    pub responses_field: String,
    /// Wide layout: field holding the array of rewards.
    #[arg(long, default_value = "rewards")]
    pub rewards_field: String,
    /// Long layout: field holding the one response string [default: response].
    #[arg(long)]
    pub response_field: Option<String>,
    /// Long layout: field holding the response's reward [default: reward].
    #[arg(long)]
    pub reward_field: Option<String>,
    /// Field holding the optional prompt id (string or integer); it keys the random stream
    /// and, in the long layout, groups the rows of a prompt.
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// Drop later duplicates of a response text before sampling (keeps the first
    /// occurrence, its index and reward). Without it duplicates are distinct candidates.
    #[arg(long)]
    pub dedup: bool,
}

impl DumpArgs {
    /// Sets the job's layout, field names and `--dedup`.
    pub fn apply(&self, job: &mut SampleJob) {
        let mut long = match self.preset {
            Some(Preset::Openrlhf) => LongFields::openrlhf(),
            None => LongFields::default(),
        };
        long.id = self.id_field.clone();
        if let Some(f) = &self.prompt_field {
            long.prompt = f.clone();
        }
        if let Some(f) = &self.response_field {
            long.response = f.clone();
        }
        if let Some(f) = &self.reward_field {
            long.reward = f.clone();
        }
        job.fields = WideFields {
            id: self.id_field.clone(),
            prompt: self.prompt_field.clone().unwrap_or_else(|| "prompt".into()),
            responses: self.responses_field.clone(),
            rewards: self.rewards_field.clone(),
        };
        job.long_fields = long;
        job.layout = match (self.layout, self.preset) {
            (Layout::Auto, Some(Preset::Openrlhf)) => Layout::Long,
            (layout, _) => layout,
        };
        job.dedup = self.dedup;
    }
}
