//! Figures a page shows that cost more to read than the page may take, and
//! change only when a job runs: read once per key and reused for a while. A
//! reading older than its time is still shown while one request's
//! background task reads it again, so nobody waits for the reading but the
//! first of a key.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::WebError;

pub struct Fresh<K, V> {
    entries: Arc<Mutex<HashMap<K, Entry<V>>>>,
    /// Held while a value never read is read: the requests that arrive
    /// meanwhile wait for that reading instead of each making its own.
    first_read: tokio::sync::Mutex<()>,
    ttl: Duration,
    /// What is read, for the log when a reading again fails.
    what: &'static str,
}

struct Entry<V> {
    at: Instant,
    value: Arc<V>,
    refreshing: bool,
}

impl<K: Eq + Hash + Clone + Send + 'static, V: Send + Sync + 'static> Fresh<K, V> {
    pub fn new(what: &'static str, ttl: Duration) -> Self {
        Self { entries: Arc::default(), first_read: tokio::sync::Mutex::new(()), ttl, what }
    }

    fn entries(entries: &Mutex<HashMap<K, Entry<V>>>) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`: as last read while fresh; read again in the
    /// background when stale (the old one shown meanwhile); read now when
    /// never read (once, however many ask at that moment).
    pub async fn get<F, Fut>(&self, key: K, read: F) -> Result<Arc<V>, WebError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, WebError>> + Send + 'static,
    {
        let stale = match Self::entries(&self.entries).get_mut(&key) {
            Some(e) if e.refreshing || e.at.elapsed() < self.ttl => return Ok(e.value.clone()),
            Some(e) => {
                e.refreshing = true;
                Some(e.value.clone())
            }
            None => None,
        };
        let reading = read();
        if let Some(old) = stale {
            let (entries, what) = (self.entries.clone(), self.what);
            tokio::spawn(async move {
                let fresh = reading.await;
                let mut entries = Self::entries(&entries);
                if let Some(e) = entries.get_mut(&key) {
                    e.refreshing = false;
                    match fresh {
                        Ok(v) => {
                            e.value = Arc::new(v);
                            e.at = Instant::now();
                        }
                        Err(err) => tracing::warn!(error = %err, what, "cannot read the figures again; the last ones are shown"),
                    }
                }
            });
            return Ok(old);
        }
        let _first = self.first_read.lock().await;
        if let Some(e) = Self::entries(&self.entries).get(&key) {
            return Ok(e.value.clone());
        }
        let value = Arc::new(reading.await?);
        Self::entries(&self.entries).insert(key, Entry { at: Instant::now(), value: value.clone(), refreshing: false });
        Ok(value)
    }
}
