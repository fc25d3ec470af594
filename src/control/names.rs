//! Names for services created without one (`docker service create IMAGE`): an adjective and a
//! scientist, joined by `_`, as the engine names them.

use rand::seq::SliceRandom;

const ADJECTIVES: &[&str] = &[
    "agile", "bold", "brave", "bright", "calm", "clever", "cool", "crisp", "curious", "daring",
    "eager", "earnest", "fearless", "fervent", "gentle", "glad", "happy", "hardy", "humble",
    "jolly", "keen", "kind", "lively", "lucid", "merry", "modest", "nimble", "noble", "patient",
    "plucky", "proud", "quick", "quiet", "rapid", "serene", "sharp", "steady", "sturdy", "swift",
    "tender", "tidy", "upbeat", "vivid", "warm", "wise", "witty", "zealous",
];

const SCIENTISTS: &[&str] = &[
    "agnesi",
    "archimedes",
    "babbage",
    "bohr",
    "boole",
    "carson",
    "curie",
    "darwin",
    "dijkstra",
    "einstein",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gauss",
    "goodall",
    "hamilton",
    "hawking",
    "hopper",
    "hypatia",
    "johnson",
    "kepler",
    "knuth",
    "lamarr",
    "leakey",
    "lovelace",
    "maxwell",
    "meitner",
    "mendel",
    "newton",
    "noether",
    "pascal",
    "pasteur",
    "payne",
    "ramanujan",
    "ritchie",
    "sagan",
    "shannon",
    "thompson",
    "turing",
    "volta",
    "wozniak",
    "yalow",
];

/// A random `adjective_scientist` name.
pub fn random_name() -> String {
    let mut rng = rand::thread_rng();
    let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("quiet");
    let scientist = SCIENTISTS.choose(&mut rng).copied().unwrap_or("turing");
    format!("{adjective}_{scientist}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_valid_service_names() {
        for _ in 0..50 {
            let name = super::random_name();
            assert!(name.contains('_'));
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
