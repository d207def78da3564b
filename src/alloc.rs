//! The allocator's settings. Answers and order details of up to 32 MiB are
//! read, parsed and dropped one after another, on whichever runtime thread.
//! glibc gives each thread that contends an arena of its own (up to eight a
//! core) and keeps what it frees there, and raises its mmap threshold after
//! the first large buffer is freed, so the next ones come from those arenas
//! too. Measured with a sync of ten 30 MiB details (the test
//! `details_of_thirty_mebibytes_each_are_stored_in_bounded_memory`): a peak
//! of 205-266 MB alone and 476-543 MB beside other work; with a fixed
//! threshold of 1 MiB, 141 MB alone (still 476 MB under load); with the
//! arenas also capped at one a core, 142 MB under load.

/// Sets both; call once, before the runtime starts its threads.
pub fn hand_back_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 64);
        // SAFETY: mallopt only changes settings of glibc's allocator; it is
        // called before any other thread exists.
        unsafe {
            nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, 1 << 20);
            nix::libc::mallopt(nix::libc::M_ARENA_MAX, cores as i32);
        }
    }
}

/// Hands the memory glibc keeps freed in its arenas back to the system
/// (`malloc_trim`): called once a large batch is written, before the next
/// large answer may be read, so two arenas never each hold one's worth.
pub fn give_back_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's arenas to the system.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}
