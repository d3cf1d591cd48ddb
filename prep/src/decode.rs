//! Turning an export's bytes into text: BOM first, then strict UTF-8, then the most likely
//! legacy encoding (chardetng; in practice Windows-1252 for AllClients' US customers).

use std::borrow::Cow;

use encoding_rs::Encoding;

/// An input's text and the encoding it was read with.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The decoded text, borrowed when the bytes were already UTF-8.
    pub text: Cow<'a, str>,
    /// WHATWG name of the encoding, lower-case (`utf-8`, `utf-16le`, `windows-1252`, …).
    pub encoding: String,
    /// Whether a byte-order mark was present (and stripped).
    pub bom: bool,
    /// Whether some bytes were not valid in the chosen encoding and became U+FFFD.
    pub had_errors: bool,
}

/// Decodes `bytes`. `forced` is a WHATWG encoding label chosen by the customer (it wins over
/// detection); an unknown label is an error.
pub fn decode<'a>(bytes: &'a [u8], forced: Option<&str>) -> Result<Decoded<'a>, String> {
    if let Some(label) = forced {
        let enc = Encoding::for_label(label.trim().as_bytes())
            .ok_or_else(|| format!("unknown encoding '{label}'"))?;
        let (text, bom) = match Encoding::for_bom(bytes) {
            Some((bom_enc, len)) if bom_enc == enc => (&bytes[len..], true),
            _ => (bytes, false),
        };
        let (cow, had_errors) = enc.decode_without_bom_handling(text);
        return Ok(Decoded {
            text: cow,
            encoding: name(enc),
            bom,
            had_errors,
        });
    }
    if let Some((enc, len)) = Encoding::for_bom(bytes) {
        let (cow, had_errors) = enc.decode_without_bom_handling(&bytes[len..]);
        return Ok(Decoded {
            text: cow,
            encoding: name(enc),
            bom: true,
            had_errors,
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding: "utf-8".into(),
            bom: false,
            had_errors: false,
        });
    }
    let mut detector = chardetng::EncodingDetector::new();
    // Sampling the head keeps detection cheap on huge files; the legacy encodings it picks
    // between differ in a few letters, which show up early in real exports.
    let sample = &bytes[..bytes.len().min(1 << 20)];
    detector.feed(sample, sample.len() == bytes.len());
    let mut enc = detector.guess(None, false);
    if enc == encoding_rs::UTF_8 {
        enc = encoding_rs::WINDOWS_1252;
    }
    let (cow, had_errors) = enc.decode_without_bom_handling(bytes);
    Ok(Decoded {
        text: cow,
        encoding: name(enc),
        bom: false,
        had_errors,
    })
}

fn name(enc: &'static Encoding) -> String {
    enc.name().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_borrowed_and_bom_is_stripped() {
        let d = decode("a,b\n1,é\n".as_bytes(), None).unwrap();
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.encoding, "utf-8");
        let d = decode(b"\xEF\xBB\xBFa,b\n", None).unwrap();
        assert_eq!(d.text, "a,b\n");
        assert!(d.bom);
    }

    #[test]
    fn windows_1252_fallback() {
        let d = decode(b"name\nCaf\xe9 M\xfcller \x93quoted\x94\n", None).unwrap();
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(d.text, "name\nCafé Müller “quoted”\n");
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "a,b\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode(&bytes, None).unwrap();
        assert_eq!(d.encoding, "utf-16le");
        assert_eq!(d.text, "a,b\n");
    }

    #[test]
    fn forced_label() {
        let d = decode(b"\xe9", Some("latin1")).unwrap();
        assert_eq!(d.text, "é");
        assert!(decode(b"x", Some("klingon")).is_err());
    }
}
