//! SQLite's reads on nearly every request's path (the session with its user, a session's call logs), run on the
//! calling thread over connections of their own.
//!
//! Through sqlx each of these reads hands its statement to a connection's thread and the rows back: two thread
//! wake-ups, which cost more than the read itself, an indexed lookup of a few rows from the page cache or the
//! operating system's file cache (tens of microseconds). In WAL mode a reader waits neither for the writer nor for
//! a checkpoint, so running the read where the request runs holds its runtime thread no longer than handing it
//! off would. (It could wait in SQLite's busy handler only while another process recovers the file after a
//! crash, which happens when an instance starts, not under load.) Reads of the admin plane, the job queue and
//! the rest stay on sqlx's pool.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::Connection;

use super::{SQLITE_BUSY_TIMEOUT, SQLITE_CACHE_KIB, StoreError};

/// Connections for [`InlineReads::read`]: one per thread reading at once, kept between reads. Only threads that run
/// the runtime's tasks read here (its workers, two on a two-core machine, and the thread blocking on it), so there
/// are about as many as workers; a cap below that would close and open connections, cold page caches and all, for
/// every read beyond it.
#[derive(Debug)]
pub(super) struct InlineReads {
    path: PathBuf,
    /// `None` once the store is closed.
    idle: Mutex<Option<Vec<Connection>>>,
}

impl InlineReads {
    pub(super) fn new(path: &Path) -> InlineReads {
        InlineReads { path: path.to_owned(), idle: Mutex::new(Some(Vec::new())) }
    }

    /// Runs `read` on an idle connection, or on a new one when every connection is reading on another thread.
    pub(super) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let idle = match self.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            Some(idle) => idle.pop(),
            None => return Err(sqlx::Error::PoolClosed.into()),
        };
        let connection = match idle {
            Some(connection) => connection,
            None => self.open()?,
        };
        let output = read(&connection);
        if let Some(idle) = self.idle.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            idle.push(connection);
        }
        Ok(output?)
    }

    /// Closes the idle connections; later reads fail as on a closed pool, and connections in use close when their
    /// read ends.
    pub(super) fn close(&self) {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).take();
    }

    /// A read-only connection with the pools' settings.
    fn open(&self) -> Result<Connection, StoreError> {
        let connection = Connection::open(&self.path)?;
        connection.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
        connection.pragma_update(None, "cache_size", -SQLITE_CACHE_KIB)?;
        connection.pragma_update(None, "query_only", true)?;
        Ok(connection)
    }

    #[cfg(test)]
    pub(super) fn idle_connections(&self) -> usize {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map_or(0, Vec::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads reading at once each read on a connection of their own; the connections stay for later reads, and
    /// none of them writes.
    #[test]
    fn inline_reads_keep_a_connection_per_thread_reading_at_once_and_only_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reads.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);")
            .unwrap();
        let reads = InlineReads::new(&path);
        let threads = 6;
        let together = std::sync::Barrier::new(threads);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let x: i64 = reads
                        .read(|connection| {
                            together.wait();
                            connection.query_row("SELECT x FROM t", [], |row| row.get(0))
                        })
                        .unwrap();
                    assert_eq!(x, 7);
                });
            }
        });
        assert_eq!(reads.idle_connections(), threads);
        // One thread after another: the same connection each time.
        for _ in 0..3 {
            assert_eq!(
                reads
                    .read(|connection| connection.query_row("SELECT x FROM t", [], |row| row.get::<_, i64>(0)))
                    .unwrap(),
                7
            );
        }
        assert_eq!(reads.idle_connections(), threads);
        let error = reads.read(|connection| connection.execute("DELETE FROM t", [])).unwrap_err();
        assert!(error.to_string().contains("readonly"), "{error}");
        reads.close();
        assert_eq!(reads.idle_connections(), 0);
        assert!(matches!(reads.read(|_| Ok(())), Err(StoreError::Database(sqlx::Error::PoolClosed))));
    }
}
