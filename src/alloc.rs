//! The allocator's one setting. Answers and order details of up to 32 MiB
//! are read, parsed and dropped one after another, on whichever runtime
//! thread. glibc raises its mmap threshold after the first large buffer is
//! freed, so the next ones come from its per-thread arenas and stay there
//! when dropped: measured, a sync of ten 30 MiB details peaked at 205-266 MB
//! alone and 507 MB beside other work. A fixed threshold gives every buffer
//! of 1 MiB or more back to the system when it is dropped.

/// Sets the threshold; call once, before the runtime starts its threads.
pub fn hand_back_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a setting of glibc's allocator; it is
    // called before any other thread exists.
    unsafe {
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
