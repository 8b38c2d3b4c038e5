//! # Recycled tile buffers
//!
//! Every call of the LAPACK-layout interface (and every received remote tile) needs fresh
//! tile storage, and fresh memory is expensive: the allocator hands large blocks out as new
//! pages, and the first write to each 4 KiB page is a page fault in the kernel. Measured on
//! this project's 2-core machine, the copy of an N = 4000 matrix into tiles took 0.09-0.11
//! s of worker time with fresh pages and 0.024 s with reused ones; the whole `posv` went
//! from 0.42 to 0.34-0.36 s.
//!
//! So tile buffers are recycled, the way StarPU keeps an allocation cache per memory node:
//! a dropped [`Tile`](super::Tile) (or an evicted copy of a remote one) gives its buffer
//! here, and the next tile of the same size takes it back instead of asking the allocator.
//!
//! - Only buffers of at least [`MIN_BYTES`] are kept (smaller ones are cheap to allocate).
//! - A buffer serves a request of `len` elements when its capacity is between `len` and
//!   `len + len / 4`.
//! - The cache never holds more than `TESSERA_TILE_CACHE_MB` MiB (default
//!   [`DEFAULT_CAP_MB`]; 0 turns it off): a buffer given when it is full is freed.
//! - A buffer unused for [`MAX_AGE`] is freed by a background thread, which runs only
//!   while the cache is not empty. A program that factors once and moves on gets its
//!   memory back within about a second; [`release_cached_buffers`] frees everything now.
//!
//! The cached buffers belong to the process, not to a runtime: several runtimes share them.
//! A GPU memory node will keep its own cache of device buffers with the same policy.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Smallest buffer kept, in bytes.
pub const MIN_BYTES: usize = 64 * 1024;
/// Default bound on the cached bytes, in MiB (`TESSERA_TILE_CACHE_MB` overrides it).
pub const DEFAULT_CAP_MB: usize = 2048;
/// How long an unused buffer stays cached.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// What the cache holds: plain values whose default is zero (the scalars, and the bytes of
/// messages).
pub(crate) trait Element: Copy + Default + Send + 'static {}
impl<T: Copy + Default + Send + 'static> Element for T {}

struct Cached {
    /// A `Vec<T>` for the `TypeId` of the key, initialized up to its length.
    buf: Box<dyn Any + Send>,
    bytes: usize,
    since: Instant,
}

/// The cache proper; the process has one behind a lock (tests make their own).
#[derive(Default)]
struct Cache {
    /// By (element type, capacity in elements).
    free: BTreeMap<(TypeId, usize), Vec<Cached>>,
    bytes: usize,
    janitor: bool,
}

impl Cache {
    /// A cached buffer for `len` elements, if one fits.
    fn take<T: Element>(&mut self, len: usize) -> Option<Vec<T>> {
        if len * std::mem::size_of::<T>() < MIN_BYTES {
            return None;
        }
        let key = TypeId::of::<T>();
        let (k, b) = self
            .free
            .range_mut((key, len)..=(key, len + len / 4))
            .find_map(|(k, v)| v.pop().map(|b| (*k, b)))?;
        if self.free.get(&k).is_some_and(|v| v.is_empty()) {
            self.free.remove(&k);
        }
        self.bytes -= b.bytes;
        let mut v = *b.buf.downcast::<Vec<T>>().ok()?;
        // Initialized up to its old length: shrinking writes nothing, growing writes only
        // the part past it.
        v.resize(len, T::default());
        Some(v)
    }

    /// Keeps `v` unless it is small or the cache would pass `cap` bytes; says whether it
    /// was kept.
    fn give<T: Element>(&mut self, v: Vec<T>, cap: usize, now: Instant) -> bool {
        let bytes = v.capacity() * std::mem::size_of::<T>();
        if bytes < MIN_BYTES || v.is_empty() || self.bytes + bytes > cap {
            return false;
        }
        self.bytes += bytes;
        self.free
            .entry((TypeId::of::<T>(), v.capacity()))
            .or_default()
            .push(Cached {
                buf: Box::new(v),
                bytes,
                since: now,
            });
        true
    }

    /// Removes the buffers unused since `now - max_age` and returns them, to be freed
    /// outside the lock.
    fn age(&mut self, now: Instant, max_age: Duration) -> Vec<Box<dyn Any + Send>> {
        let mut old = Vec::new();
        let mut freed = 0;
        self.free.retain(|_, v| {
            v.retain_mut(|b| {
                let keep = now.saturating_duration_since(b.since) < max_age;
                if !keep {
                    freed += b.bytes;
                    old.push(std::mem::replace(&mut b.buf, Box::new(())));
                }
                keep
            });
            !v.is_empty()
        });
        self.bytes -= freed;
        old
    }
}

fn cache() -> &'static Mutex<Cache> {
    static C: OnceLock<Mutex<Cache>> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn cap_bytes() -> usize {
    static C: OnceLock<usize> = OnceLock::new();
    *C.get_or_init(|| {
        crate::env::tile_cache_mb_override()
            .unwrap_or(DEFAULT_CAP_MB)
            .saturating_mul(1 << 20)
    })
}

fn lock() -> std::sync::MutexGuard<'static, Cache> {
    // Every operation leaves the cache consistent before it can panic, so a poisoned
    // lock is still usable.
    cache().lock().unwrap_or_else(|e| e.into_inner())
}

/// A buffer of `len` initialized elements whose values are unspecified (zeros or the
/// values of a previous tile): for a tile that is about to be overwritten whole.
pub(crate) fn take<T: Element>(len: usize) -> Vec<T> {
    let cached = lock().take(len);
    cached.unwrap_or_else(|| vec![T::default(); len])
}

/// A buffer of `len` zeros.
pub(crate) fn take_zeroed<T: Element>(len: usize) -> Vec<T> {
    let cached = lock().take(len);
    // A fresh buffer is zeroed by the allocator (untouched pages); only a reused one is
    // filled here.
    cached.map_or_else(
        || vec![T::default(); len],
        |mut v| {
            v.fill(T::default());
            v
        },
    )
}

/// Gives a buffer back for reuse (or frees it: small, or the cache is full).
pub(crate) fn give<T: Element>(v: Vec<T>) {
    let cap = cap_bytes();
    if v.capacity() * std::mem::size_of::<T>() < MIN_BYTES || cap == 0 {
        return;
    }
    let mut c = lock();
    if c.give(v, cap, Instant::now()) && !c.janitor {
        let spawned = std::thread::Builder::new()
            .name("tessera-tile-cache".into())
            .spawn(janitor);
        match spawned {
            Ok(_) => c.janitor = true,
            // No thread: nothing would age the cache out, so keep nothing.
            Err(_) => {
                c.free.clear();
                c.bytes = 0;
            }
        }
    }
}

/// Frees the buffers unused for [`MAX_AGE`], until the cache is empty.
fn janitor() {
    loop {
        std::thread::sleep(MAX_AGE / 4);
        let (old, empty) = {
            let mut c = lock();
            let old = c.age(Instant::now(), MAX_AGE);
            if c.free.is_empty() {
                c.janitor = false;
            }
            (old, !c.janitor)
        };
        // Freed outside the lock.
        drop(old);
        if empty {
            return;
        }
    }
}

/// Frees every cached tile buffer now. Tile buffers are kept for about a second after
/// their matrix is dropped so that the next call reuses them (see the module
/// documentation); a program that needs that memory at once can call this.
pub fn release_cached_buffers() {
    let old = {
        let mut c = lock();
        c.bytes = 0;
        std::mem::take(&mut c.free)
    };
    drop(old);
}

/// Bytes of tile buffers held for reuse now.
pub fn cached_bytes() -> usize {
    lock().bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_kernels::c32;

    #[test]
    fn buffers_are_reused_by_type_and_size_and_aged_out() {
        let mut c = Cache::default();
        let cap = 1 << 30;
        let t0 = Instant::now();
        let n = 40_000; // 320 KB of f64
        let v: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let p = v.as_ptr();
        assert!(c.give(v, cap, t0));
        assert_eq!(c.bytes, n * 8);
        // Same type, a size within a quarter below: the same buffer, its old values.
        let w = c.take::<f64>(n - 100).unwrap();
        assert_eq!((w.as_ptr(), w.len()), (p, n - 100));
        assert_eq!(w[7], 7.0);
        assert_eq!(c.bytes, 0);
        assert!(c.give(w, cap, t0));
        // Another element type of the same size, or a request more than a quarter
        // smaller, does not get it.
        assert!(c.take::<c32>(n).is_none());
        assert!(c.take::<f64>(n / 2).is_none());
        assert!(c.take::<f64>(n + 1).is_none());
        // A buffer with capacity to spare grows back into it without reallocating.
        let w = c.take::<f64>(n).unwrap();
        assert_eq!((w.as_ptr(), w.len()), (p, n));
        assert!(c.give(w, cap, t0));
        // Small buffers and buffers past the cap are not kept.
        assert!(!c.give(vec![1.0f32; 16], cap, t0));
        assert!(!c.give(vec![1.0f64; n], n * 8 + 8, t0));
        assert_eq!(c.bytes, n * 8);
        // Ageing frees what has not been used for the given time, and only that.
        assert!(c.give(vec![2.0f64; n], cap, t0 + MAX_AGE));
        let old = c.age(t0 + MAX_AGE + MAX_AGE / 2, MAX_AGE);
        assert_eq!(old.len(), 1);
        assert_eq!(c.bytes, n * 8);
        let v = c.take::<f64>(n).unwrap();
        assert_eq!(v[0], 2.0);
        assert!(c.free.is_empty() && c.bytes == 0);
    }

    #[test]
    fn process_cache_hands_out_what_it_was_given() {
        // The process-wide cache is shared with concurrent tests: only check what cannot
        // depend on them.
        let z = take_zeroed::<f64>(50_000);
        assert!(z.len() == 50_000 && z.iter().all(|&x| x == 0.0));
        give(z);
        let t = take::<f64>(50_000);
        assert_eq!(t.len(), 50_000);
        give(t);
        release_cached_buffers();
        assert_eq!(take_zeroed::<f32>(10), vec![0.0f32; 10]);
    }
}
