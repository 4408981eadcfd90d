//! Reads JSONL input in large blocks of whole lines, so memory stays bounded by the block
//! size whatever the dump's size.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::Error;

/// Where rows come from: a file, or standard input (`-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn from_arg(arg: Option<&Path>) -> Self {
        match arg {
            None => Input::Stdin,
            Some(p) if p.as_os_str() == "-" => Input::Stdin,
            Some(p) => Input::File(p.to_path_buf()),
        }
    }

    /// A name for messages.
    pub fn name(&self) -> PathBuf {
        match self {
            Input::Stdin => PathBuf::from("<stdin>"),
            Input::File(p) => p.clone(),
        }
    }

    /// The size in bytes of what the input reads, when known (for progress): not for
    /// standard input, nor for a compressed file (its decompressed size is not).
    pub fn size(&self) -> Option<u64> {
        match self {
            Input::File(p) if Compression::of(p) == Compression::None => {
                std::fs::metadata(p).ok().filter(|m| m.is_file()).map(|m| m.len())
            }
            _ => None,
        }
    }

    /// Opens the input; a `.gz` or `.zst` file is decompressed on a thread of its own.
    pub fn open(&self) -> Result<Box<dyn Read + Send>, Error> {
        match self {
            Input::Stdin => Ok(Box::new(io::stdin())),
            Input::File(p) => {
                let file = File::open(p).map_err(|e| Error::io(p, e))?;
                match Compression::of(p) {
                    Compression::None => Ok(Box::new(file)),
                    Compression::Gzip => Ok(Box::new(ThreadedReader::spawn(flate2::read::MultiGzDecoder::new(
                        io::BufReader::with_capacity(1 << 20, file),
                    )))),
                    Compression::Zstd => {
                        let decoder = zstd::stream::read::Decoder::new(file).map_err(|e| Error::io(p, e))?;
                        Ok(Box::new(ThreadedReader::spawn(decoder)))
                    }
                }
            }
        }
    }
}

/// Compression of an input file, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn of(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("gz") => Compression::Gzip,
            Some("zst") | Some("zstd") => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// Runs a reader (a decompressor) on its own thread, handing its output over in blocks.
pub struct ThreadedReader {
    blocks: crossbeam_channel::Receiver<io::Result<Vec<u8>>>,
    current: io::Cursor<Vec<u8>>,
}

impl ThreadedReader {
    pub fn spawn(mut source: impl Read + Send + 'static) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(4);
        std::thread::spawn(move || loop {
            let mut block = Vec::with_capacity(1 << 20);
            match (&mut source).take(1 << 20).read_to_end(&mut block) {
                Ok(0) => return,
                Ok(_) => {
                    if tx.send(Ok(block)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        });
        Self { blocks: rx, current: io::Cursor::new(Vec::new()) }
    }
}

impl Read for ThreadedReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.current.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.blocks.recv() {
                Ok(block) => self.current = io::Cursor::new(block?),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// A block of whole lines.
#[derive(Debug, Default)]
pub struct Chunk {
    /// 1-based number of the block's first line in the input.
    pub first_line: u64,
    /// Byte offset of the block in the input.
    pub offset: u64,
    pub data: Vec<u8>,
}

impl Chunk {
    /// How many of the block's `lines` one parallel task should take: enough for about
    /// 64 KiB of input, so short rows are not split too finely and a block of a few long
    /// rows (long texts) still spreads over the cores.
    fn lines_per_task(&self, lines: usize) -> usize {
        const BYTES_PER_TASK: usize = 64 << 10;
        let mean_line = self.data.len() / lines.max(1);
        (BYTES_PER_TASK / mean_line.max(1)).clamp(1, 1024)
    }

    /// Parses the block's rows on all cores, in tasks of about 64 KiB: `parse(line_no, text,
    /// at)` for each line that is not blank, `at` being the line's offset in the block.
    /// Results come in line order; a blank line gives `Ok(None)`.
    pub fn parse_rows<T: Send>(
        &self,
        parse: impl Fn(u64, &[u8], usize) -> Result<T, Error> + Sync,
    ) -> Vec<Result<Option<T>, Error>> {
        let base = self.data.as_ptr() as usize;
        let lines = self.lines();
        lines
            .par_iter()
            .with_min_len(self.lines_per_task(lines.len()))
            .map(|&(line_no, text)| {
                if text.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                parse(line_no, text, text.as_ptr() as usize - base).map(Some)
            })
            .collect()
    }

    /// The block's lines (without '\n' or a trailing '\r'), each with its 1-based number.
    pub fn lines(&self) -> Vec<(u64, &[u8])> {
        let mut out = Vec::new();
        let mut start = 0;
        let ends = memchr::memchr_iter(b'\n', &self.data).chain(std::iter::once(self.data.len()));
        for (number, end) in (self.first_line..).zip(ends) {
            if end == self.data.len() && start == end {
                break;
            }
            let mut line = &self.data[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            out.push((number, line));
            start = end + 1;
        }
        out
    }
}

/// Splits a byte stream into [`Chunk`]s of about `block_size` bytes, each ending at a line end.
/// The UTF-8 byte order mark, skipped at the start of an input.
pub const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

pub struct ChunkReader {
    source: Box<dyn Read + Send>,
    name: PathBuf,
    block_size: usize,
    carry: Vec<u8>,
    next_line: u64,
    offset: u64,
    done: bool,
}

impl ChunkReader {
    pub fn new(source: Box<dyn Read + Send>, name: PathBuf, block_size: usize) -> Self {
        Self { source, name, block_size: block_size.max(1), carry: Vec::new(), next_line: 1, offset: 0, done: false }
    }

    /// The next block, or None at the end of the input.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, Error> {
        if self.done && self.carry.is_empty() {
            return Ok(None);
        }
        let mut data = std::mem::take(&mut self.carry);
        // Read until the block holds at least one line end past block_size, or the input ends.
        loop {
            if data.len() >= self.block_size {
                if let Some(end) = memchr::memrchr(b'\n', &data) {
                    self.carry = data.split_off(end + 1);
                    break;
                }
            }
            if self.done {
                break;
            }
            let want = self.block_size.max(data.len() / 2).max(64 * 1024);
            data.reserve(want);
            let got = (&mut self.source)
                .take(want as u64)
                .read_to_end(&mut data)
                .map_err(|e| Error::io(&self.name, e))?;
            if got == 0 {
                self.done = true;
            }
        }
        if self.offset == 0 && data.starts_with(UTF8_BOM) {
            // A byte order mark (some Windows tools write one) is not part of the first row.
            data.drain(..UTF8_BOM.len());
            self.offset = UTF8_BOM.len() as u64;
        }
        if data.is_empty() {
            return Ok(None);
        }
        let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let chunk = Chunk { first_line: self.next_line, offset: self.offset, data };
        self.next_line += lines + u64::from(!chunk.data.ends_with(b"\n"));
        self.offset += chunk.data.len() as u64;
        Ok(Some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str, block: usize) -> Vec<(u64, String)> {
        let mut reader = ChunkReader::new(Box::new(io::Cursor::new(text.as_bytes().to_vec())), "t".into(), block);
        let mut out = Vec::new();
        while let Some(c) = reader.next_chunk().unwrap() {
            for (n, l) in c.lines() {
                out.push((n, String::from_utf8(l.to_vec()).unwrap()));
            }
        }
        out
    }

    #[test]
    fn lines_are_numbered_across_blocks() {
        let text = "a\nbb\r\n\nccc\nd";
        let want: Vec<(u64, String)> =
            vec![(1, "a".into()), (2, "bb".into()), (3, "".into()), (4, "ccc".into()), (5, "d".into())];
        for block in [1, 2, 3, 5, 100] {
            assert_eq!(chunks(text, block), want, "block {block}");
        }
        assert_eq!(chunks("x\ny\n", 1), vec![(1, "x".into()), (2, "y".into())]);
        assert!(chunks("", 4).is_empty());
    }
}
