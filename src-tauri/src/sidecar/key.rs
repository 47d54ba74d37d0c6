//! The per-launch API key: 32 random bytes from the OS generator, hex-encoded (64 chars).
//! It reaches the sidecar through the environment and the UI through the init script; it is
//! never put on a command line, in a URL or in a log.
use std::fmt;

pub const KEY_BYTES: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn generate() -> Self {
        let bytes: [u8; KEY_BYTES] = rand::random();
        Self(hex::encode(bytes))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn key_is_64_hex_chars() {
        let key = ApiKey::generate();
        assert_eq!(key.expose().len(), KEY_BYTES * 2);
        assert!(key.expose().chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn keys_differ_across_calls() {
        let keys: HashSet<String> = (0..100).map(|_| ApiKey::generate().expose().to_owned()).collect();
        assert_eq!(keys.len(), 100);
    }

    #[test]
    fn key_bytes_look_random() {
        // 100 keys = 3,200 bytes: every byte value should appear; a constant or counter would not.
        let mut seen = [false; 256];
        for _ in 0..100 {
            for byte in hex::decode(ApiKey::generate().expose()).unwrap() {
                seen[byte as usize] = true;
            }
        }
        assert!(seen.iter().filter(|s| **s).count() > 240);
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let key = ApiKey::generate();
        assert!(!format!("{key:?}").contains(key.expose()));
    }
}
