//! Work on a task of its own, so that it spreads over the runtime's threads
//! (reading an answer, writing a page) while the caller goes on.

/// Runs `work` as a task of its own, cancelled when the handle is dropped
/// (a caller that stops early leaves nothing running behind it).
pub fn spawned<T: Send + 'static>(work: impl std::future::Future<Output = T> + Send + 'static) -> futures_util::future::RemoteHandle<T> {
    let (task, handle) = futures_util::FutureExt::remote_handle(work);
    tokio::spawn(task);
    handle
}
