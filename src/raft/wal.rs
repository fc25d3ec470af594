//! The Raft log on disk: an append-only write-ahead log of preallocated segment files.
//!
//! Why not a redb table: every write is one Raft entry made durable before it is answered, so
//! a write costs one durable commit of the log. Measured on the target machines, a redb
//! durable commit of one entry (B-tree pages, allocator state, header, then fdatasync) takes
//! ~340 µs; writing the entry into a segment whose blocks already exist, through a direct
//! `O_DSYNC` file (one system call that returns once the blocks are durable), takes ~100 µs,
//! because the file's size and extents do not change. Votes and the purge point, written
//! rarely, stay in redb with the state machine.
//!
//! Format: a directory of segments named `<first index, 20 digits>.wal`, each [`SEGMENT_SIZE`]
//! bytes, zero-filled before use. A record is `len: u32, crc: u32, index: u64, payload`
//! (little-endian; the CRC covers the index and the payload). A zero length ends a segment's
//! data. On open, records are read until the first one that is short, fails its CRC or does not
//! follow the previous index: that is where a crash cut the last write, and it is wiped.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Size of one segment file.
pub const SEGMENT_SIZE: u64 = 16 << 20;
const HEADER: usize = 16;
const SUFFIX: &str = "wal";
const SPARE: &str = "spare.tmp";
/// Direct writes cover whole blocks of this size, from buffers aligned to it.
const BLOCK: usize = 4096;

/// Where one entry lives.
#[derive(Debug, Clone, Copy)]
struct Location {
    segment: u64,
    offset: u64,
    len: u32,
}

struct Segment {
    file: File,
    /// The same file opened for direct writes, where the filesystem allows it.
    direct: Option<File>,
    /// Where the next record goes.
    end: u64,
    /// Index of the last record physically in the file, if any. A record that does not
    /// follow it starts a new segment, so the records of a segment are always contiguous.
    last: Option<u64>,
}

/// The log: contiguous entries `first..first + locations.len()`.
pub struct Wal {
    dir: PathBuf,
    segments: BTreeMap<u64, Segment>,
    first: u64,
    locations: VecDeque<Location>,
    /// A zero-filled segment made ahead of time, so a roll-over does not wait for it.
    spare: Option<std::thread::JoinHandle<io::Result<File>>>,
    /// The active segment's bytes from the start of its last, partly filled block to its end
    /// of data: a direct write rewrites that block whole.
    tail: Vec<u8>,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{first:020}.{SUFFIX}"))
}

fn checksum(index: u64, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&index.to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// Creates a zero-filled segment file at `path` (through a temporary name, then synced).
fn create_zeroed(path: &Path) -> io::Result<File> {
    let tmp = path.with_extension("creating");
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&tmp)?;
    // Written, not `set_len`: a hole or an unwritten extent would make every fdatasync
    // update metadata.
    let zeros = vec![0u8; 1 << 20];
    let mut offset = 0;
    while offset < SEGMENT_SIZE {
        file.write_all_at(&zeros, offset)?;
        offset += zeros.len() as u64;
    }
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(file)
}

/// Opens `path` for direct writes, or `None` where the filesystem refuses them.
///
/// `O_DSYNC`: a direct write returns once its blocks are durable, so it needs no `fdatasync`
/// after it: one system call and one wait for the device instead of two.
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
        .open(path)
        .ok()
}

/// Writes `tail` and then `data` at `start` (block-aligned) through a direct file: in whole
/// blocks from an aligned buffer, zero-padded (the bytes past the end of data are zeros
/// already). Returns the new tail.
fn write_direct(direct: &File, start: u64, tail: &[u8], data: &[u8]) -> io::Result<Vec<u8>> {
    let len = tail.len() + data.len();
    let padded = len.div_ceil(BLOCK) * BLOCK;
    let mut storage = vec![0u8; padded + BLOCK];
    let align = storage.as_ptr().align_offset(BLOCK);
    let blocks = &mut storage[align..align + padded];
    blocks[..tail.len()].copy_from_slice(tail);
    blocks[tail.len()..len].copy_from_slice(data);
    let written = direct.write_at(blocks, start)?;
    if written != padded {
        // A short direct write cannot be resumed aligned; the caller writes again buffered.
        return Err(io::Error::new(
            io::ErrorKind::WriteZero,
            "short direct write",
        ));
    }
    Ok(blocks[len - len % BLOCK..len].to_vec())
}

/// The bytes of `file` from the start of the block holding `end` up to `end`.
fn read_tail(file: &File, end: u64) -> io::Result<Vec<u8>> {
    let start = end - end % BLOCK as u64;
    let mut tail = vec![0u8; (end - start) as usize];
    file.read_exact_at(&mut tail, start)?;
    Ok(tail)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

impl Wal {
    /// Opens the log in `dir` (created if missing), recovering from a torn last write.
    pub fn open(dir: &Path) -> io::Result<Wal> {
        fs::create_dir_all(dir)?;
        let _ = fs::remove_file(dir.join(SPARE));
        let mut firsts = Vec::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some(SUFFIX) {
                if path.extension().and_then(|e| e.to_str()) == Some("creating") {
                    let _ = fs::remove_file(&path);
                }
                continue;
            }
            let first = path
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| invalid(format!("unexpected file {}", path.display())))?;
            firsts.push(first);
        }
        firsts.sort_unstable();

        let mut wal = Wal {
            dir: dir.to_path_buf(),
            segments: BTreeMap::new(),
            first: firsts.first().copied().unwrap_or(0),
            locations: VecDeque::new(),
            spare: None,
            tail: Vec::new(),
        };
        let mut next_index: Option<u64> = None;
        for (position, first) in firsts.iter().copied().enumerate() {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(segment_path(dir, first))?;
            let is_last = position + 1 == firsts.len();
            // Segments start fresh after a purge emptied the log: no continuity across them.
            if next_index.is_some_and(|n| n != first) {
                wal.locations.clear();
                next_index = None;
            }
            let end = wal.scan(&file, first, &mut next_index)?;
            if !is_last && end == 0 {
                // An empty segment that is not the last one: a roll-over that wrote nothing.
                drop(file);
                fs::remove_file(segment_path(dir, first))?;
                continue;
            }
            let last = (end > 0).then(|| next_index.map(|n| n - 1)).flatten();
            // Only the last segment is appended to.
            let direct = is_last
                .then(|| open_direct(&segment_path(dir, first)))
                .flatten();
            wal.segments.insert(
                first,
                Segment {
                    file,
                    direct,
                    end,
                    last,
                },
            );
        }
        wal.load_tail()?;
        Ok(wal)
    }

    /// Reads the active segment's partly filled last block into `tail`.
    fn load_tail(&mut self) -> io::Result<()> {
        self.tail.clear();
        if let Some(segment) = self.segments.values().next_back() {
            self.tail = read_tail(&segment.file, segment.end)?;
        }
        Ok(())
    }

    /// Reads the records of one segment, appending their locations; returns where its data
    /// ends, after wiping a torn record there.
    fn scan(&mut self, file: &File, segment: u64, next_index: &mut Option<u64>) -> io::Result<u64> {
        let size = file.metadata()?.len();
        let mut offset = 0u64;
        let mut header = [0u8; HEADER];
        loop {
            if offset + HEADER as u64 > size {
                break;
            }
            file.read_exact_at(&mut header, offset)?;
            let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            if len == 0 {
                break;
            }
            let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            let mut index_bytes = [0u8; 8];
            index_bytes.copy_from_slice(&header[8..16]);
            let index = u64::from_le_bytes(index_bytes);
            let fits = offset + HEADER as u64 + u64::from(len) <= size;
            let follows = next_index.is_none_or(|n| n == index);
            let valid = fits && follows && {
                let mut payload = vec![0u8; len as usize];
                file.read_exact_at(&mut payload, offset + HEADER as u64)?;
                checksum(index, &payload) == crc
            };
            if !valid {
                // The tail of an interrupted write (or bytes left behind it): wipe it so a
                // shorter record written here later cannot be followed by stale bytes.
                let wipe = if fits {
                    HEADER as u64 + u64::from(len)
                } else {
                    size - offset
                };
                let zeros = vec![0u8; wipe.min(size - offset) as usize];
                file.write_all_at(&zeros, offset)?;
                file.sync_data()?;
                break;
            }
            if self.locations.is_empty() {
                self.first = index;
            }
            self.locations.push_back(Location {
                segment,
                offset,
                len,
            });
            *next_index = Some(index + 1);
            offset += HEADER as u64 + u64::from(len);
        }
        Ok(offset)
    }

    /// Index of the first entry kept (meaningless when empty).
    pub fn first_index(&self) -> u64 {
        self.first
    }

    /// Index of the last entry, if any.
    pub fn last_index(&self) -> Option<u64> {
        (!self.locations.is_empty()).then(|| self.first + self.locations.len() as u64 - 1)
    }

    pub fn is_empty(&self) -> bool {
        self.locations.is_empty()
    }

    /// Appends entries (indexes must follow the last one) and makes them durable.
    pub fn append(&mut self, entries: &[(u64, Vec<u8>)]) -> io::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut expected = self.last_index().map(|l| l + 1);
        for (index, _) in entries {
            if expected.is_some_and(|e| e != *index) {
                return Err(invalid(format!(
                    "log entry {index} does not follow {}",
                    expected.unwrap_or(0).saturating_sub(1)
                )));
            }
            expected = Some(index + 1);
        }
        if self.locations.is_empty() {
            self.first = entries[0].0;
        }
        let mut buffer = Vec::new();
        let mut pending: Vec<(u64, u32)> = Vec::new();
        let mut synced = Vec::new();
        for (index, payload) in entries {
            let len = u32::try_from(payload.len())
                .ok()
                .filter(|l| u64::from(*l) + (HEADER as u64) <= SEGMENT_SIZE)
                .ok_or_else(|| invalid("log entry too large"))?;
            let record = HEADER as u64 + u64::from(len);
            let start_new = match self.segments.values().next_back() {
                None => true,
                Some(active) => {
                    let physical_last = if pending.is_empty() {
                        active.last
                    } else {
                        Some(index - 1)
                    };
                    active.end + buffer.len() as u64 + record > SEGMENT_SIZE
                        || physical_last.is_some_and(|last| last + 1 != *index)
                }
            };
            if start_new {
                if let Some(segment) = self.flush_buffer(&mut buffer, &mut pending)? {
                    synced.push(segment);
                }
                self.roll_over(*index)?;
            }
            let offset_in_buffer = buffer.len() as u64;
            buffer.extend_from_slice(&len.to_le_bytes());
            buffer.extend_from_slice(&checksum(*index, payload).to_le_bytes());
            buffer.extend_from_slice(&index.to_le_bytes());
            buffer.extend_from_slice(payload);
            pending.push((offset_in_buffer, len));
        }
        if let Some(segment) = self.flush_buffer(&mut buffer, &mut pending)? {
            synced.push(segment);
        }
        for first in synced {
            if let Some(segment) = self.segments.get(&first) {
                segment.file.sync_data()?;
            }
        }
        self.prepare_spare();
        Ok(())
    }

    /// Writes buffered records to the active segment; returns that segment if it still needs
    /// a sync (the records went through the page cache, not a direct `O_DSYNC` write).
    fn flush_buffer(
        &mut self,
        buffer: &mut Vec<u8>,
        pending: &mut Vec<(u64, u32)>,
    ) -> io::Result<Option<u64>> {
        if buffer.is_empty() {
            return Ok(None);
        }
        let (&first, segment) = self
            .segments
            .iter_mut()
            .next_back()
            .ok_or_else(|| invalid("no active segment"))?;
        let base = segment.end;
        let tail_start = base - base % BLOCK as u64;
        // An empty tail is always right where it matches (the block starts at `base`); a
        // non-empty one is trusted only while it is kept, which the length check guards.
        let tail = std::mem::take(&mut self.tail);
        let mut attempted = false;
        if let Some(direct) = segment
            .direct
            .as_ref()
            .filter(|_| tail.len() as u64 == base - tail_start)
        {
            attempted = true;
            match write_direct(direct, tail_start, &tail, buffer) {
                Ok(new_tail) => self.tail = new_tail,
                Err(error) => {
                    tracing::warn!(%error, "direct log write failed; this segment is written through the page cache");
                    segment.direct = None;
                }
            }
        }
        // A direct write that went through is durable (`O_DSYNC`); a failed one dropped `direct`.
        let durable = attempted && segment.direct.is_some();
        if !durable {
            if attempted {
                // The failed direct write may have torn the block holding the tail's
                // acknowledged records, and the page cache no longer has it: write them
                // again from memory along with the new ones.
                let mut block = tail;
                block.extend_from_slice(buffer);
                segment.file.write_all_at(&block, tail_start)?;
            } else {
                segment.file.write_all_at(buffer, base)?;
            }
            if segment.direct.is_some() {
                // Direct writes resume with the next append: they need the new tail.
                self.tail = read_tail(&segment.file, base + buffer.len() as u64)?;
            }
        }
        segment.end += buffer.len() as u64;
        segment.last = Some(self.first + self.locations.len() as u64 + pending.len() as u64 - 1);
        for (offset, len) in pending.drain(..) {
            self.locations.push_back(Location {
                segment: first,
                offset: base + offset,
                len,
            });
        }
        buffer.clear();
        Ok((!durable).then_some(first))
    }

    /// Starts a new segment whose first entry will be `first`.
    fn roll_over(&mut self, first: u64) -> io::Result<()> {
        let path = segment_path(&self.dir, first);
        let spare = self.spare.take().and_then(|handle| handle.join().ok());
        let file = match spare {
            Some(Ok(file)) => {
                fs::rename(self.dir.join(SPARE), &path)?;
                file
            }
            _ => create_zeroed(&path)?,
        };
        sync_dir(&self.dir)?;
        let direct = open_direct(&path);
        self.segments.insert(
            first,
            Segment {
                file,
                direct,
                end: 0,
                last: None,
            },
        );
        self.tail.clear();
        Ok(())
    }

    /// Starts zero-filling the next segment in the background once the active one is half full.
    fn prepare_spare(&mut self) {
        if self.spare.is_some() {
            return;
        }
        let half_full = self
            .segments
            .values()
            .next_back()
            .is_some_and(|s| s.end > SEGMENT_SIZE / 2);
        if half_full {
            let path = self.dir.join(SPARE);
            self.spare = Some(std::thread::spawn(move || create_zeroed(&path)));
        }
    }

    /// The payload of entry `index`.
    pub fn read(&self, index: u64) -> io::Result<Option<Vec<u8>>> {
        if index < self.first {
            return Ok(None);
        }
        let Some(location) = self.locations.get((index - self.first) as usize) else {
            return Ok(None);
        };
        let segment = self
            .segments
            .get(&location.segment)
            .ok_or_else(|| invalid("log segment missing"))?;
        let mut payload = vec![0u8; location.len as usize];
        segment
            .file
            .read_exact_at(&mut payload, location.offset + HEADER as u64)?;
        Ok(Some(payload))
    }

    /// Deletes entries from `index` on (a follower's conflicting suffix), durably.
    pub fn truncate(&mut self, index: u64) -> io::Result<()> {
        if self.locations.is_empty() || index > self.last_index().unwrap_or(0) {
            return Ok(());
        }
        // Reloaded at the end; cleared first so that an error on the way leaves no stale copy.
        self.tail.clear();
        let keep = index.saturating_sub(self.first) as usize;
        let cut = self.locations.get(keep).copied();
        self.locations.truncate(keep);
        if self.locations.is_empty() {
            self.first = index;
        }
        let Some(cut) = cut else {
            return Ok(());
        };
        // Later segments go entirely; the cut one is zeroed from the cut to its end of data.
        let later: Vec<u64> = self
            .segments
            .range(cut.segment + 1..)
            .map(|(first, _)| *first)
            .collect();
        for first in later {
            self.segments.remove(&first);
            fs::remove_file(segment_path(&self.dir, first))?;
        }
        if let Some(segment) = self.segments.get_mut(&cut.segment) {
            let zeros = vec![0u8; (segment.end - cut.offset) as usize];
            segment.file.write_all_at(&zeros, cut.offset)?;
            segment.file.sync_data()?;
            segment.end = cut.offset;
            segment.last = (cut.offset > 0).then(|| index - 1);
        }
        self.load_tail()?;
        sync_dir(&self.dir)
    }

    /// Forgets entries up to and including `index` (covered by a snapshot). Whole segments
    /// below it are deleted; the active segment is kept.
    pub fn purge(&mut self, index: u64) -> io::Result<()> {
        while !self.locations.is_empty() && self.first <= index {
            self.locations.pop_front();
            self.first += 1;
        }
        if self.locations.is_empty() {
            self.first = index + 1;
        }
        let active = self.segments.keys().next_back().copied();
        let keep_from = self.locations.front().map(|l| l.segment).or(active);
        let doomed: Vec<u64> = self
            .segments
            .keys()
            .copied()
            .filter(|first| Some(*first) != active && keep_from.is_some_and(|k| *first < k))
            .collect();
        for first in doomed {
            self.segments.remove(&first);
            fs::remove_file(segment_path(&self.dir, first))?;
        }
        Ok(())
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        if let Some(spare) = self.spare.take() {
            let _ = spare.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(index: u64) -> Vec<u8> {
        format!("entry {index} {}", "x".repeat((index % 7) as usize * 100)).into_bytes()
    }

    fn append_range(wal: &mut Wal, range: std::ops::Range<u64>) {
        let entries: Vec<(u64, Vec<u8>)> = range.map(|i| (i, payload(i))).collect();
        wal.append(&entries).unwrap();
    }

    #[test]
    fn appends_read_back_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        assert!(wal.is_empty());
        append_range(&mut wal, 1..4);
        append_range(&mut wal, 4..10);
        assert_eq!(wal.read(5).unwrap().unwrap(), payload(5));
        assert_eq!(wal.last_index(), Some(9));
        drop(wal);
        let wal = Wal::open(dir.path()).unwrap();
        assert_eq!((wal.first_index(), wal.last_index()), (1, Some(9)));
        for i in 1..10 {
            assert_eq!(wal.read(i).unwrap().unwrap(), payload(i));
        }
        assert!(wal.read(10).unwrap().is_none());
    }

    #[test]
    fn records_across_block_boundaries_read_back_after_truncating_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        // Sizes that end records at, just before and just after block boundaries.
        let sized =
            |index: u64| vec![index as u8; [4080, 1, 5000, 4096 - 16, 300][index as usize % 5]];
        for index in 1..40 {
            wal.append(&[(index, sized(index))]).unwrap();
        }
        wal.truncate(23).unwrap();
        wal.append(&[(23, b"after the cut".to_vec()), (24, sized(24))])
            .unwrap();
        let check = |wal: &Wal| {
            assert_eq!(wal.last_index(), Some(24));
            for index in 1..23 {
                assert_eq!(
                    wal.read(index).unwrap().unwrap(),
                    sized(index),
                    "entry {index}"
                );
            }
            assert_eq!(wal.read(23).unwrap().unwrap(), b"after the cut");
            assert_eq!(wal.read(24).unwrap().unwrap(), sized(24));
        };
        check(&wal);
        // Where the filesystem takes direct writes, none of these fell back to the page cache.
        let probe = dir.path().join("probe");
        File::create(&probe).unwrap();
        if open_direct(&probe).is_some() {
            assert!(wal.segments.values().next_back().unwrap().direct.is_some());
        }
        drop(wal);
        let mut wal = Wal::open(dir.path()).unwrap();
        check(&wal);
        // Appending after reopening continues the partly filled block it found.
        wal.append(&[(25, b"twenty-five".to_vec())]).unwrap();
        drop(wal);
        let wal = Wal::open(dir.path()).unwrap();
        assert_eq!(wal.read(24).unwrap().unwrap(), sized(24));
        assert_eq!(wal.read(25).unwrap().unwrap(), b"twenty-five");
    }

    #[test]
    fn refuses_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        append_range(&mut wal, 1..3);
        assert!(wal.append(&[(5, b"x".to_vec())]).is_err());
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_wiped() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        append_range(&mut wal, 1..6);
        let last = *wal.locations.back().unwrap();
        drop(wal);
        // Damage the last record's payload, as a crash mid-write would.
        let file = OpenOptions::new()
            .write(true)
            .open(segment_path(dir.path(), 1))
            .unwrap();
        file.write_all_at(b"garbage", last.offset + HEADER as u64)
            .unwrap();
        drop(file);
        let mut wal = Wal::open(dir.path()).unwrap();
        assert_eq!(wal.last_index(), Some(4));
        // A new, shorter record at the same place reads back fine after reopening.
        wal.append(&[(5, b"short".to_vec())]).unwrap();
        drop(wal);
        let wal = Wal::open(dir.path()).unwrap();
        assert_eq!(wal.last_index(), Some(5));
        assert_eq!(wal.read(5).unwrap().unwrap(), b"short");
    }

    #[test]
    fn truncate_then_append_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        append_range(&mut wal, 1..10);
        wal.truncate(6).unwrap();
        assert_eq!(wal.last_index(), Some(5));
        wal.append(&[(6, b"new six".to_vec())]).unwrap();
        drop(wal);
        let wal = Wal::open(dir.path()).unwrap();
        assert_eq!(wal.last_index(), Some(6));
        assert_eq!(wal.read(6).unwrap().unwrap(), b"new six");
    }

    #[test]
    fn rolls_over_segments_and_purges_whole_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        // ~1 MiB entries: 16 fit in a segment.
        let big = vec![7u8; 1 << 20];
        for i in 1..40u64 {
            wal.append(&[(i, big.clone())]).unwrap();
        }
        let segments = wal.segments.len();
        assert!(segments >= 3, "{segments} segments");
        wal.purge(20).unwrap();
        assert_eq!(wal.first_index(), 21);
        assert!(wal.segments.len() < segments);
        assert!(wal.read(20).unwrap().is_none());
        assert_eq!(wal.read(21).unwrap().unwrap(), big);
        drop(wal);
        let wal = Wal::open(dir.path()).unwrap();
        assert_eq!(wal.last_index(), Some(39));
        assert!(wal.first_index() <= 21);
        assert_eq!(wal.read(39).unwrap().unwrap(), big);
    }

    #[test]
    fn a_jump_after_purging_everything_starts_a_segment_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        append_range(&mut wal, 1..5);
        // A follower that installed a snapshot at 1000 purges everything and continues there.
        wal.purge(1000).unwrap();
        append_range(&mut wal, 1001..1003);
        drop(wal);
        let wal = Wal::open(dir.path()).unwrap();
        assert_eq!(wal.last_index(), Some(1002));
        assert_eq!(wal.first_index(), 1001);
        assert_eq!(wal.read(1002).unwrap().unwrap(), payload(1002));
    }

    #[test]
    fn purge_past_the_end_leaves_an_empty_log_that_continues() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path()).unwrap();
        append_range(&mut wal, 1..5);
        wal.purge(4).unwrap();
        assert!(wal.is_empty());
        assert_eq!(wal.first_index(), 5);
        append_range(&mut wal, 5..7);
        assert_eq!(wal.read(6).unwrap().unwrap(), payload(6));
    }
}
