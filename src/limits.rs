//! Size caps on what Punctual reads from outside: an imported file, an HTTP answer, an IPC argument.
//!
//! Invariants:
//! - Each cap is checked before the whole input is held: a file or an answer is read through
//!   [`read_capped`], which stops one byte past the cap, so a 10 GB file or an endless chunked answer costs at
//!   most the cap in memory, never the input's size.
//! - Over a cap is always [`ErrorCode::TooLarge`], with a message that names what was too large and the cap,
//!   and it fails before anything is written.
//! - The caps are tens of MB: far above any real calendar (a 10,000-event export is about 5 MB), so only a
//!   broken or hostile peer meets them. README.md states them; change both together.

use crate::error::{Error, ErrorCode};
use std::io::Read;

/// The largest .ics file (or stdin) that an import reads: 64 MiB.
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

/// The largest body of a provider's or a token endpoint's answer: 32 MiB. Google's event pages hold at most
/// 2,500 events, a few MB.
pub const MAX_RESPONSE_BYTES: u64 = 32 * 1024 * 1024;

/// The largest text argument the desktop shell takes over IPC (a title, a description, a search): 1 MiB.
/// File contents for an import are held to [`MAX_IMPORT_BYTES`] instead.
pub const MAX_TEXT_ARG_BYTES: usize = 1024 * 1024;

/// Why a capped read failed.
#[derive(Debug, thiserror::Error)]
pub enum CappedReadError {
    /// The input holds more than `limit` bytes.
    #[error("more than {} bytes", .limit)]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads `reader` to its end, or fails once it has given more than `limit` bytes.
pub fn read_capped(reader: impl Read, limit: u64) -> Result<Vec<u8>, CappedReadError> {
    let mut out = Vec::new();
    // One byte past the cap tells "exactly the cap" from "over it" without reading further.
    reader.take(limit.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(CappedReadError::TooLarge { limit });
    }
    Ok(out)
}

/// A cap in words: "64 MB" (binary megabytes, as file managers show them on Linux and Windows).
pub fn describe(limit: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if limit >= MB && limit % MB == 0 {
        format!("{} MB", limit / MB)
    } else {
        format!("{limit} bytes")
    }
}

/// The error for `what` (a field or a thing: "the file", "Google's answer") being over `limit` bytes.
pub fn too_large(field: Option<&str>, what: &str, limit: u64) -> Error {
    let message = format!("{what} is larger than the {} limit", describe(limit));
    match field {
        Some(f) => Error::field(ErrorCode::TooLarge, f, message),
        None => Error::new(ErrorCode::TooLarge, message),
    }
}

/// Checks a text argument against [`MAX_TEXT_ARG_BYTES`], naming the field when it is over.
pub fn check_text(field: &str, value: &str) -> Result<(), Error> {
    check_len(field, value.len(), MAX_TEXT_ARG_BYTES)
}

/// Checks a length against a cap, naming the field when it is over.
pub fn check_len(field: &str, len: usize, limit: usize) -> Result<(), Error> {
    if len > limit {
        return Err(too_large(
            Some(field),
            &format!("the {field}"),
            limit as u64,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_at_the_cap_passes_and_one_byte_more_fails() {
        let data = [b'x'; 10];
        let got = read_capped(&data[..], 10).expect("exactly the cap is allowed");
        assert_eq!(got.len(), 10, "a read at the cap returns every byte");
        let err = read_capped(&data[..], 9).expect_err("one byte over the cap is refused");
        assert!(
            matches!(err, CappedReadError::TooLarge { limit: 9 }),
            "the refusal names the cap: {err:?}"
        );
    }

    #[test]
    fn an_endless_reader_is_cut_at_the_cap() {
        // std::io::repeat never ends: a read without a cap would never return.
        let err =
            read_capped(std::io::repeat(b'a'), 1024).expect_err("an endless input is refused");
        assert!(
            matches!(err, CappedReadError::TooLarge { limit: 1024 }),
            "an endless input is too large, not an I/O error: {err:?}"
        );
    }

    #[test]
    fn the_error_names_the_field_and_the_cap() {
        let e = check_text("description", &"d".repeat(MAX_TEXT_ARG_BYTES + 1))
            .expect_err("a description over 1 MB is refused");
        assert_eq!(e.code, ErrorCode::TooLarge, "the code says what is wrong");
        assert_eq!(
            e.field.as_deref(),
            Some("description"),
            "the field at fault is named"
        );
        assert!(
            e.message.contains("1 MB"),
            "the message states the cap: {}",
            e.message
        );
        assert!(
            check_text("description", &"d".repeat(MAX_TEXT_ARG_BYTES)).is_ok(),
            "exactly the cap is allowed"
        );
    }
}
