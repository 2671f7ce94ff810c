//! The DC-09 frame checksum: CRC-16/ARC.
//!
//! DC-09 inherits its CRC from DC-07: polynomial 0x8005 processed bit-reflected (0xA001), initial value 0,
//! no final XOR. It is computed over the ASCII bytes from the opening `"` of the ID token up to, not
//! including, the closing `<CR>`, and written as four hex digits. It detects damage, not tampering: that is
//! what encryption (and the timestamp inside it) is for.

/// CRC-16/ARC of `data`, as used in the DC-09 frame header.
#[must_use]
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::crc16;

    #[test]
    fn catalogue_check_value() {
        // The check value of CRC-16/ARC ("123456789") from the RevEng catalogue of parametrised CRCs.
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(crc16(b""), 0);
    }
}
