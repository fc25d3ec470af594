//! Swarm object IDs: 25 characters of lowercase base36, as swarmkit makes them
//! (`tbb2zhg9hnmlsx4w3vzqtnc1j`). Nodes, services, tasks, secrets, configs, the cluster and
//! swarm-scoped networks all use this form; containers and local networks use 64 hex digits.
//!
//! Depends on nothing else in the crate.

/// Length of every swarm ID.
pub const SWARM_ID_LEN: usize = 25;

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A fresh random ID: 128 random bits in base36, left-padded with `0` to 25 characters.
///
/// Like swarmkit, the top bit is set so every ID uses the full width.
pub fn new_id() -> String {
    id_from_bits(rand::random::<u128>())
}

/// The ID spelling of 128 bits (top bit forced on), exposed for deterministic tests.
pub fn id_from_bits(bits: u128) -> String {
    let mut n = bits | (1u128 << 127);
    let mut out = [b'0'; SWARM_ID_LEN];
    let mut i = SWARM_ID_LEN;
    while n > 0 && i > 0 {
        i -= 1;
        out[i] = DIGITS[(n % 36) as usize];
        n /= 36;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// True when `s` looks like a swarm ID: exactly 25 characters of `[0-9a-z]`.
pub fn is_swarm_id(s: &str) -> bool {
    s.len() == SWARM_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_look_like_swarm_ids() {
        for _ in 0..1000 {
            let id = new_id();
            assert!(is_swarm_id(&id), "{id}");
        }
        assert_ne!(new_id(), new_id());
    }

    #[test]
    fn extremes_fit_in_25_characters() {
        assert_eq!(id_from_bits(u128::MAX), "f5lxx1zz5pnorynqglhzmsp33");
        let low = id_from_bits(0);
        assert_eq!(low.len(), 25);
        assert!(is_swarm_id(&low));
    }

    #[test]
    fn recognises_engine_ids() {
        assert!(is_swarm_id("tbb2zhg9hnmlsx4w3vzqtnc1j"));
        assert!(is_swarm_id("uscrzlibaxy2egq6cbb7p9ggj"));
        assert!(!is_swarm_id("tbb2zhg9hnmlsx4w3vzqtnc1"));
        assert!(!is_swarm_id("TBB2ZHG9HNMLSX4W3VZQTNC1J"));
        assert!(!is_swarm_id(
            "49b3dda3351576ad726d37d28559c6f064e6c4407332e3c391492e49717933fe"
        ));
        assert!(!is_swarm_id("web"));
    }
}
