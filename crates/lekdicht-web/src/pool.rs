//! A small pool of [`SqliteStore`] connections used from blocking threads.
//!
//! Each request that touches the store takes one connection (waiting on a semaphore when all are
//! busy), runs its closure in `spawn_blocking` and gives the connection back. This module does not
//! know what the closures do.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lekdicht_store::{SqliteStore, StoreError};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// Connections to one data directory.
pub struct Pool {
    data: PathBuf,
    idle: Mutex<Vec<SqliteStore>>,
    permits: Semaphore,
}

impl Pool {
    /// Opens `size` connections (at least one).
    pub fn open(data: &Path, size: usize) -> Result<Arc<Pool>, StoreError> {
        let size = size.max(1);
        let mut idle = Vec::with_capacity(size);
        for _ in 0..size {
            idle.push(SqliteStore::open(data)?);
        }
        Ok(Arc::new(Pool {
            data: data.to_owned(),
            idle: Mutex::new(idle),
            permits: Semaphore::new(size),
        }))
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// Runs `f` with a connection on a blocking thread.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteStore) -> Result<T, AppError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::internal("the connection pool is closed"))?;
        let taken = self.idle.lock().map(|mut idle| idle.pop()).ok().flatten();
        let mut store = match taken {
            Some(store) => store,
            None => SqliteStore::open(&self.data)?,
        };
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let result = f(&mut store);
            if let Ok(mut idle) = pool.idle.lock() {
                idle.push(store);
            }
            result
        })
        .await
        .map_err(|e| AppError::internal(format!("a store task failed: {e}")))?
    }
}
