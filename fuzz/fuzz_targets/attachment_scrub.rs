//! Arbitrary bytes into the attachment scrubber (JPEG, PNG, PDF and Word rewriting). Whatever
//! comes back must itself scrub again without error or panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qorgau::reports::scrub;

fuzz_target!(|data: &[u8]| {
    if let Ok((kind, clean)) = scrub::scrub(data) {
        let again = scrub::scrub(&clean);
        assert!(again.is_ok(), "{kind:?}: a scrubbed file does not scrub again: {again:?}");
    }
});
