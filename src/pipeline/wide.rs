//! The wide layout as a pipeline: reader, parser (all cores), sampler and writer stages on
//! their own threads, a few blocks in flight.

use std::io::Read;
use std::thread;

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::error::Error;
use crate::io::reader::{Chunk, ChunkReader};
use crate::io::row::RowSpec;
use crate::io::sink::Sink;
use crate::io::wide::parse_wide;
use crate::io::PromptRecord;
use crate::sampler::{rng, Batch, Sampler};

use super::progress::Progress;
use super::summary::finish_batch;
use super::{OnShort, SampleJob, Summary};

/// One parsed block: its bytes, its prompts and their batch.
pub(super) struct ParsedBlock {
    pub(super) chunk: Chunk,
    pub(super) records: Vec<PromptRecord>,
    pub(super) batch: Batch,
    pub(super) skipped_short: u64,
    pub(super) duplicates_dropped: u64,
}

pub(super) fn run_wide(job: &SampleJob, sampler: &dyn Sampler, source: Box<dyn Read + Send>) -> Result<Summary, Error> {
    let sink = Sink::create(job.output.as_deref())?;
    let progress = Progress::new(job.progress, job.input.size());

    let (chunk_tx, chunk_rx) = bounded::<Result<Chunk, Error>>(2);
    let (block_tx, block_rx) = bounded::<Result<ParsedBlock, Error>>(1);
    let (out_tx, out_rx) = bounded::<(Vec<u8>, u64)>(2);

    let mut reader = ChunkReader::new(source, job.input.name(), job.block_size);
    let reading = thread::spawn(move || read_stage(&mut reader, chunk_tx));
    let spec = job.fields.spec();
    let parse_job = job.clone();
    let parsing = thread::spawn(move || parse_stage(&parse_job, &spec, chunk_rx, block_tx));
    let bar = progress.clone();
    let writing = thread::spawn(move || write_stage(sink, out_rx, bar));

    let mut summary = Summary::default();
    let sampled = sample_stage(job, sampler, block_rx, out_tx, &mut summary);

    let sink = writing.join().expect("writer thread panicked");
    let _ = parsing.join();
    let _ = reading.join();
    progress.finish();
    sampled?;
    let (sink, bytes) = sink?;
    sink.commit()?;
    summary.bytes_read = bytes;
    Ok(summary)
}

pub(super) fn read_stage(reader: &mut ChunkReader, tx: Sender<Result<Chunk, Error>>) {
    loop {
        match reader.next_chunk() {
            Ok(Some(chunk)) => {
                if tx.send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

pub(super) fn parse_stage(job: &SampleJob, spec: &RowSpec, rx: Receiver<Result<Chunk, Error>>, tx: Sender<Result<ParsedBlock, Error>>) {
    let mut ordinal = 0u64;
    for chunk in rx {
        let parsed = chunk.and_then(|chunk| parse_block(job, spec, chunk, &mut ordinal));
        let failed = parsed.is_err();
        if tx.send(parsed).is_err() || failed {
            return;
        }
    }
}

/// Parses a block's rows on all cores, then numbers them and builds the batch in order.
pub(super) fn parse_block(job: &SampleJob, spec: &RowSpec, chunk: Chunk, ordinal: &mut u64) -> Result<ParsedBlock, Error> {
    let parsed = chunk.parse_rows(|line_no, text, at| parse_wide(text, line_no, at as u32, spec, job.dedup));
    let mut block = ParsedBlock {
        records: Vec::with_capacity(parsed.len()),
        batch: Batch::new(),
        skipped_short: 0,
        duplicates_dropped: 0,
        chunk: Chunk::default(),
    };
    let k = job.params.num_samples as usize;
    for record in parsed {
        let Some(record) = record? else { continue };
        let pk = match &record.id {
            Some(id) => rng::prompt_key_from_id(&id.text),
            None => rng::prompt_key_from_ordinal(*ordinal),
        };
        *ordinal += 1;
        block.duplicates_dropped += record.duplicates_dropped as u64;
        if record.responses.len() < k {
            match job.on_short {
                OnShort::Error => {
                    return Err(Error::input(
                        record.line,
                        &job.fields.responses,
                        format!(
                            "the pool has {} candidates, fewer than --num-samples {k} (use --on-short all or --on-short skip)",
                            record.responses.len()
                        ),
                    ))
                }
                OnShort::Skip => {
                    block.skipped_short += 1;
                    continue;
                }
                OnShort::All => {}
            }
        }
        block.batch.push(record.rewards.iter().map(|&r| r as f32), rng::prompt_stream_key(job.seed, pk));
        block.records.push(record);
    }
    block.chunk = chunk;
    Ok(block)
}

pub(super) fn sample_stage(
    job: &SampleJob,
    sampler: &dyn Sampler,
    rx: Receiver<Result<ParsedBlock, Error>>,
    tx: Sender<(Vec<u8>, u64)>,
    summary: &mut Summary,
) -> Result<(), Error> {
    for block in rx {
        let block = block?;
        let selection = sampler.sample(&block.batch, &job.params)?;
        let rows = finish_batch(job, &block.batch, &selection, &block.records, &block.chunk.data, summary)?;
        summary.skipped_short += block.skipped_short;
        summary.duplicates_dropped += block.duplicates_dropped;
        if tx.send((rows, block.chunk.data.len() as u64)).is_err() {
            break;
        }
    }
    Ok(())
}

pub(super) fn write_stage(mut sink: Sink, rx: Receiver<(Vec<u8>, u64)>, progress: Progress) -> Result<(Sink, u64), Error> {
    let mut read = 0;
    for (bytes, consumed) in rx {
        sink.write_all(&bytes)?;
        read += consumed;
        progress.advance(consumed);
    }
    Ok((sink, read))
}
