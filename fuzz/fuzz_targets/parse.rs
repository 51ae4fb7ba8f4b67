//! Any bytes: `parse_bytes` must return, never panic, and whatever it
//! returns must serialise (the CLI prints it).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match canopy_aamva::parse_bytes(data) {
        Ok(card) => {
            // A successful parse always carries the mandatory fields.
            assert!(!card.license_number.is_empty());
            assert!(serde_json::to_string(&card).is_ok());
            let summary = canopy_aamva::Summary::from(card);
            assert!(serde_json::to_string(&summary).is_ok());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
