//! Standard output as Unix tools treat it: when the reader goes away
//! (`abilene ... | head -1`) the program ends quietly with success; any
//! other write error (a full disk) is an error, never a panic.

use std::fmt;
use std::io::{ErrorKind, Write};

/// Standard output was closed by its reader: not a failure.
#[derive(Debug)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for Closed {}

/// Writes `text` to standard output and flushes it.
pub fn write(text: &str) -> anyhow::Result<()> {
    write_to(&mut std::io::stdout().lock(), text)
}

fn write_to(w: &mut dyn Write, text: &str) -> anyhow::Result<()> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Closed.into()),
        Err(e) => Err(anyhow::anyhow!("cannot write to standard output: {e}")),
    }
}

/// `print!` that returns the write's error from the enclosing function.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(&format!($($arg)*))?
    };
}

/// `println!` that returns the write's error from the enclosing function.
macro_rules! outln {
    () => {
        $crate::out::write("\n")?
    };
    ($($arg:tt)*) => {
        $crate::out::write(&format!("{}\n", format_args!($($arg)*)))?
    };
}

pub(crate) use {out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_a_full_disk_an_error() {
        let closed = write_to(&mut Failing(ErrorKind::BrokenPipe), "x").unwrap_err();
        assert!(closed.downcast_ref::<Closed>().is_some());
        let full = write_to(&mut Failing(ErrorKind::StorageFull), "x").unwrap_err();
        assert!(full.downcast_ref::<Closed>().is_none());
        assert!(full.to_string().contains("cannot write to standard output"));
        let mut buf = Vec::new();
        write_to(&mut buf, "ok\n").unwrap();
        assert_eq!(buf, b"ok\n");
    }
}
