//! Where output goes: stdout, or a file written beside its destination and renamed into
//! place only when the run succeeds, so a failed run leaves no partial file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use std::sync::Mutex;

use crate::error::Error;

pub enum Sink {
    Stdout(BufWriter<io::Stdout>),
    /// A path that is not a regular file (`/dev/null`, a named pipe): written directly.
    Device { writer: BufWriter<File>, path: PathBuf },
    File { writer: BufWriter<File>, temp: tempfile::TempPath, path: PathBuf, _pending: Pending },
}

/// Temporary output files being written, for [`remove_pending`].
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Registers a temporary output file in [`PENDING`] while it lives.
pub struct Pending(PathBuf);

impl Pending {
    fn new(path: &Path) -> Self {
        PENDING.lock().unwrap_or_else(|p| p.into_inner()).push(path.to_path_buf());
        Pending(path.to_path_buf())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING.lock().unwrap_or_else(|p| p.into_inner()).retain(|p| p != &self.0);
    }
}

/// Deletes the temporary files of every output still being written: for an interrupted
/// run (Ctrl-C, SIGTERM), which ends without unwinding, so no partial file is left behind.
pub fn remove_pending() {
    let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    for path in pending.iter() {
        let _ = std::fs::remove_file(path);
    }
}

impl Sink {
    /// `None` or `-` is stdout.
    pub fn create(path: Option<&Path>) -> Result<Sink, Error> {
        match path {
            None => Ok(Sink::Stdout(BufWriter::with_capacity(1 << 20, io::stdout()))),
            Some(p) if p.as_os_str() == "-" => Ok(Sink::Stdout(BufWriter::with_capacity(1 << 20, io::stdout()))),
            Some(p) if p.exists() && !p.is_file() => {
                let file = std::fs::OpenOptions::new().write(true).open(p).map_err(|e| Error::io(p, e))?;
                Ok(Sink::Device { writer: BufWriter::with_capacity(1 << 20, file), path: p.to_path_buf() })
            }
            Some(p) => {
                let dir = match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                    _ => PathBuf::from("."),
                };
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let prefix = format!(".{name}.");
                let mut builder = tempfile::Builder::new();
                builder.prefix(&prefix).suffix(".partial");
                // A new file gets the usual 0666 & !umask; a replaced one keeps its mode.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let mode = std::fs::metadata(p).map(|m| m.permissions().mode()).unwrap_or(0o666);
                    builder.permissions(std::fs::Permissions::from_mode(mode));
                }
                if !dir.is_dir() {
                    let message = format!("the folder {} does not exist", dir.display());
                    return Err(Error::io(p, io::Error::new(io::ErrorKind::NotFound, message)));
                }
                let file = builder.tempfile_in(&dir).map_err(|e| {
                    // Name the folder, not the temporary file's made-up name.
                    let message = format!("cannot create a file in {}: {}", dir.display(), e.kind());
                    Error::io(p, io::Error::new(e.kind(), message))
                })?;
                let (file, temp) = file.into_parts();
                let pending = Pending::new(&temp);
                Ok(Sink::File { writer: BufWriter::with_capacity(1 << 20, file), temp, path: p.to_path_buf(), _pending: pending })
            }
        }
    }

    fn name(&self) -> PathBuf {
        match self {
            Sink::Stdout(_) => PathBuf::from("<stdout>"),
            Sink::File { path, .. } | Sink::Device { path, .. } => path.clone(),
        }
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let result = match self {
            Sink::Stdout(w) => w.write_all(bytes),
            Sink::File { writer, .. } | Sink::Device { writer, .. } => writer.write_all(bytes),
        };
        result.map_err(|e| Error::io(self.name(), e))
    }

    /// Flushes and, for a file, moves it into place. Dropping a sink without committing
    /// deletes the temporary file.
    pub fn commit(self) -> Result<(), Error> {
        match self {
            Sink::Stdout(mut w) => w.flush().map_err(|e| Error::io("<stdout>", e)),
            Sink::Device { mut writer, path } => writer.flush().map_err(|e| Error::io(path, e)),
            Sink::File { writer, temp, path, _pending } => {
                let file = writer.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
                file.sync_all().map_err(|e| Error::io(&path, e))?;
                drop(file);
                temp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
                Ok(())
            }
        }
    }
}
