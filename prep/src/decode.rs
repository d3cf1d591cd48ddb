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
/// detection); an unknown label is an error, and so is text that holds binary data (a NUL,
/// or many control characters), since no export has them and reading them as text would
/// turn garbage into contacts.
pub fn decode<'a>(bytes: &'a [u8], forced: Option<&str>) -> Result<Decoded<'a>, String> {
    let d = decode_text(bytes, forced)?;
    // A chosen encoding is the customer's answer to "is this text?".
    if forced.is_none() {
        binary_check(&d.text)?;
    }
    Ok(d)
}

/// [`decode`] taking the bytes: where they are the text already (UTF-8, or ASCII in any
/// encoding), they become it without a copy, so a large file is not held twice.
pub fn decode_owned(bytes: Vec<u8>, forced: Option<&str>) -> Result<Decoded<'static>, String> {
    let d = decode(&bytes, forced)?;
    let (encoding, bom, had_errors) = (d.encoding, d.bom, d.had_errors);
    let text = match d.text {
        Cow::Owned(text) => text,
        Cow::Borrowed(text) => {
            // Text borrowed from the bytes is all of them after a byte-order mark.
            let skip = bytes.len() - text.len();
            let mut bytes = bytes;
            bytes.drain(..skip);
            String::from_utf8(bytes).map_err(|e| e.to_string())?
        }
    };
    Ok(Decoded {
        text: Cow::Owned(text),
        encoding,
        bom,
        had_errors,
    })
}

/// Refuses text whose control characters (NUL and the others but tab, line feed, carriage
/// return and form feed) make up more than 1 in 200 of its characters, at least 3: what
/// binary data, or UTF-16 read as something else, looks like. A stray NUL in a real export
/// (csvkit's `null_byte.csv`) stays a character of its cell.
fn binary_check(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    // Vertical tab is Excel's and Word's line break inside a cell; 0x1a ends old DOS files.
    let is_control =
        |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1a)) || b == 0x7f;
    let controls = count_controls(bytes);
    if controls < 3 || controls * 200 <= text.chars().count() {
        return Ok(());
    }
    let first = bytes.iter().position(|&b| is_control(b)).unwrap_or(0);
    Err(format!(
        "from line {} on, the file holds binary data ({controls} control characters), not \
         text: this is not a CSV or HTML export (if it is UTF-16 or another encoding that was \
         not recognised, choose the encoding)",
        line_of(bytes, first)
    ))
}

/// How many bytes of `bytes` are control characters as [`binary_check`] counts them. The
/// bytes below a space are counted and the allowed ones taken off with plain comparisons,
/// 255 at a time into a byte, which the compiler turns into vector instructions: the test
/// as a filter ran at a quarter of the speed, and every byte of an export goes through it.
fn count_controls(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|chunk| {
            let n = chunk.iter().fold(0u8, |n, &b| {
                let low = u8::from(b < 0x20 || b == 0x7f);
                let allowed = u8::from(matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1a));
                // At most 255 bytes a chunk, each adding 0 or 1: no overflow.
                n.wrapping_add(low - allowed)
            });
            usize::from(n)
        })
        .sum()
}

fn line_of(bytes: &[u8], at: usize) -> usize {
    1 + bytes[..at].iter().filter(|&&b| b == b'\n').count()
}

/// UTF-16 without a byte-order mark, recognised by its NULs: text that is mostly ASCII has
/// a zero in every other byte (the high byte of each code unit). `None` when the head of
/// the file does not look like that.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096) & !1];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let zeros_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (zeros_at(0), zeros_at(1));
    // Four in ten code units ASCII is already a very un-binary file; the other position
    // must then be almost free of zeros.
    if odd * 10 >= pairs * 4 && even * 20 <= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even * 10 >= pairs * 4 && odd * 20 <= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

fn decode_text<'a>(bytes: &'a [u8], forced: Option<&str>) -> Result<Decoded<'a>, String> {
    if let Some(label) = forced {
        let enc = Encoding::for_label(label.trim().as_bytes())
            .ok_or_else(|| format!("unknown encoding '{label}'"))?;
        let (text, bom) = match Encoding::for_bom(bytes) {
            Some((bom_enc, len)) if bom_enc == enc => (&bytes[len..], true),
            _ => (bytes, false),
        };
        let (cow, had_errors) = decode_exact(enc, text);
        return Ok(Decoded {
            text: cow,
            encoding: name(enc),
            bom,
            had_errors,
        });
    }
    if let Some((enc, len)) = Encoding::for_bom(bytes) {
        let (cow, had_errors) = decode_exact(enc, &bytes[len..]);
        return Ok(Decoded {
            text: cow,
            encoding: name(enc),
            bom: true,
            had_errors,
        });
    }
    if let Some(enc) = sniff_utf16(bytes) {
        let (cow, had_errors) = decode_exact(enc, bytes);
        return Ok(Decoded {
            text: cow,
            encoding: name(enc),
            bom: false,
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
    let (sample, whole) = detection_sample(bytes, DETECTION_SAMPLE);
    detector.feed(&sample, whole);
    let mut enc = detector.guess(None, false);
    if enc == encoding_rs::UTF_8 {
        enc = encoding_rs::WINDOWS_1252;
    }
    let (cow, had_errors) = decode_exact(enc, bytes);
    Ok(Decoded {
        text: cow,
        encoding: name(enc),
        bom: false,
        had_errors,
    })
}

/// How many bytes of words the detector is given at most.
const DETECTION_SAMPLE: usize = 128 << 10;

/// What the detector needs of `bytes`: each word holding a byte beyond ASCII, with the
/// ASCII byte on either side of it, in file order, overlapping words joined and the others
/// apart by a space, up to `cap` bytes; and whether that covers the whole file. chardetng
/// scores a byte beyond ASCII by its neighbours and never a pair of ASCII bytes (its
/// documentation says so, ISO-2022-JP aside, which is ASCII and so read as UTF-8 before
/// detection), so the runs of ASCII between such words tell it nothing, and cost it as much
/// as the letters that do: an export is mostly ASCII, and its first megabyte, what the
/// detector was given before, took it a tenth of a second. The words come from the whole
/// file, so a letter that appears only late in it is weighed too.
fn detection_sample(bytes: &[u8], cap: usize) -> (Vec<u8>, bool) {
    // A word stops at ASCII that is not a letter or digit; looked for this far at most.
    const REACH: usize = 64;
    let boundary = |b: u8| b.is_ascii() && !b.is_ascii_alphanumeric();
    let mut sample = Vec::new();
    let mut end = 0;
    let mut at = 0;
    while let Some(hit) = next_beyond_ascii(bytes, at) {
        let floor = hit.saturating_sub(REACH).max(end);
        let start = (floor..hit)
            .rev()
            .find(|&i| boundary(bytes[i]))
            .unwrap_or(floor);
        let ceiling = bytes.len().min(hit + REACH);
        let stop = (hit..ceiling)
            .find(|&i| boundary(bytes[i]))
            .map_or(ceiling, |i| i + 1);
        if start > end || sample.is_empty() {
            // Apart: by a space, unless ASCII that is no letter ends the one and starts
            // the other already (a pair of ASCII bytes weighs nothing).
            let apart = sample
                .last()
                .is_some_and(|&b| !boundary(b) || !boundary(bytes[start]));
            if sample.len() + usize::from(apart) + (stop - start) > cap {
                return (sample, false);
            }
            if apart {
                sample.push(b' ');
            }
            sample.extend_from_slice(&bytes[start..stop]);
        } else {
            // Touching the previous word: continued, not apart.
            if sample.len() + (stop - end) > cap {
                return (sample, false);
            }
            sample.extend_from_slice(&bytes[end..stop]);
        }
        end = stop;
        at = stop;
    }
    (sample, true)
}

/// Where the first byte beyond ASCII at or after `from` is: a block at a time (the
/// standard library checks a block a word at a time), then the byte within it.
fn next_beyond_ascii(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    for block in bytes[from..].chunks(64) {
        if !block.is_ascii() {
            return block.iter().position(|b| !b.is_ascii()).map(|i| at + i);
        }
        at += block.len();
    }
    None
}

/// `enc.decode_without_bom_handling(bytes)`, with the text allocated at its exact size: the
/// decoder reserves the worst case (for a single-byte encoding three bytes of text per
/// byte, rounded up to a power of two), which for a large legacy-encoded file is several
/// times the file. The text is measured through a small buffer first, then decoded into
/// a string of that size.
fn decode_exact<'a>(enc: &'static Encoding, bytes: &'a [u8]) -> (Cow<'a, str>, bool) {
    // As the decoder does, the bytes are lent where they are the text already: valid UTF-8
    // (after a byte-order mark, or chosen), or ASCII in an encoding that extends it.
    let lent = enc == encoding_rs::UTF_8 || (enc.is_ascii_compatible() && bytes.is_ascii());
    if lent && let Ok(text) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(text), false);
    }
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut scratch = vec![0u8; 64 << 10];
    let (mut read, mut size) = (0, 0);
    loop {
        let (result, r, w, _) = decoder.decode_to_utf8(&bytes[read..], &mut scratch, true);
        read += r;
        size += w;
        if result == encoding_rs::CoderResult::InputEmpty {
            break;
        }
    }
    // A little room over: the decoder stops where the next letter might not fit.
    let mut text = String::with_capacity(size + 16);
    let mut decoder = enc.new_decoder_without_bom_handling();
    let (mut read, mut had_errors) = (0, false);
    loop {
        let (result, r, errors) = decoder.decode_to_string(&bytes[read..], &mut text, true);
        read += r;
        had_errors |= errors;
        if result == encoding_rs::CoderResult::InputEmpty {
            return (Cow::Owned(text), had_errors);
        }
        // More room than is free now, so each round makes progress.
        text.reserve(text.capacity() - text.len() + 16);
    }
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
    fn owned_bytes_decode_as_borrowed_ones_do() {
        let cases: [&[u8]; 5] = [
            "a,b\n1,é\n".as_bytes(),
            b"\xEF\xBB\xBFa,b\n",
            // Excel's "CSV UTF-8": a byte-order mark before letters beyond ASCII.
            "\u{feff}Name\ncafé\n".as_bytes(),
            b"name\nCaf\xe9\n",
            b"\xFF\xFEa\x00,\x00b\x00",
        ];
        for bytes in cases {
            let (a, b) = (
                decode(bytes, None).unwrap(),
                decode_owned(bytes.to_vec(), None).unwrap(),
            );
            // Valid UTF-8 is lent by the bytes, whichever way it is decoded.
            assert_eq!(
                matches!(a.text, Cow::Borrowed(_)),
                a.encoding == "utf-8",
                "{bytes:?}"
            );
            assert_eq!(
                (a.text, a.encoding, a.bom, a.had_errors),
                (b.text, b.encoding, b.bom, b.had_errors)
            );
        }
        assert!(decode_owned(vec![0, 1, 2, 3, 4, 5], None).is_err());
    }

    #[test]
    fn decoded_at_exact_size_as_the_decoder_decodes() {
        let mut mixed = b"Name,City\r\n".repeat(20_000);
        mixed.extend_from_slice(b"Caf\xe9 M\xfcller \x93quoted\x94 \x81\r\n");
        let utf16: Vec<u8> = "Zoë,☃\n"
            .repeat(30_000)
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for (enc, bytes) in [
            (encoding_rs::WINDOWS_1252, &mixed[..]),
            (encoding_rs::UTF_16LE, &utf16[..]),
            (encoding_rs::UTF_8, b"ok \xff bad"),
            (encoding_rs::SHIFT_JIS, b"plain"),
        ] {
            let (text, errors) = decode_exact(enc, bytes);
            let (want, want_errors) = enc.decode_without_bom_handling(bytes);
            assert_eq!((text.as_ref(), errors), (want.as_ref(), want_errors));
            assert_eq!(text.len(), want.len());
            if let Cow::Owned(t) = text {
                // Not the decoder's worst case (three bytes a byte, and more).
                assert!(
                    t.capacity() <= t.len() + 64,
                    "{}: {}",
                    enc.name(),
                    t.capacity()
                );
            }
        }
    }

    #[test]
    fn the_detector_is_given_the_words_beyond_ascii_and_their_neighbours() {
        let (sample, whole) =
            detection_sample(b"id,name\n1,Caf\xe9 bar,x\n2,plain\n3,\xfc\xfcber", 1000);
        assert_eq!(sample, b",Caf\xe9 ,\xfc\xfcber");
        assert!(whole);
        // Words that touch are continued, not set apart.
        let (sample, _) = detection_sample(b"a \xe9a \xe9b c", 1000);
        assert_eq!(sample, b" \xe9a \xe9b ");
        // Capped at a whole word.
        let (sample, whole) = detection_sample(b"\xe9 x \xe8 y \xe7", 5);
        assert_eq!((&sample[..], whole), (&b"\xe9  \xe8 "[..], false));
        // A word beyond the reach of its boundary is cut there, and found again further on.
        let long = [b"x,".as_slice(), &[0xe9; 200], b",y"].concat();
        let (sample, whole) = detection_sample(&long, 1000);
        assert_eq!(sample, [b",".as_slice(), &[0xe9; 200], b","].concat());
        assert!(whole);
    }

    #[test]
    fn legacy_encodings_are_told_apart_by_letters_late_in_a_large_file() {
        // Two megabytes of ASCII before the first letter beyond it: past the head that
        // was sampled before.
        let mut bytes = b"Name,City\r\n".repeat(200_000);
        bytes.extend_from_slice("M\u{fc}ller,K\u{f6}ln\r\n".repeat(50).as_bytes());
        let latin: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|&b| b != 0xc3)
            .map(|b| if b >= 0x80 { b + 0x40 } else { b })
            .collect();
        let d = decode(&latin, None).unwrap();
        assert_eq!(d.encoding, "windows-1252");
        assert!(d.text.ends_with("Müller,Köln\r\n"));
        let cyrillic = [
            b"Name,City\r\n".repeat(200_000),
            encoding_rs::WINDOWS_1251
                .encode(&"Иван Петров,Москва\r\n".repeat(200))
                .0
                .into_owned(),
        ]
        .concat();
        let d = decode(&cyrillic, None).unwrap();
        assert_eq!(d.encoding, "windows-1251");
        assert!(d.text.ends_with("Иван Петров,Москва\r\n"));
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
    fn utf16_without_bom_is_recognised_by_its_nuls() {
        let text = "Contact ID,First Name,Email\r\n1,Zoë,zoe@example.com\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, enc) in [(le, "utf-16le"), (be, "utf-16be")] {
            let d = decode(&bytes, None).unwrap();
            assert_eq!((d.text.as_ref(), d.encoding.as_str()), (text, enc));
        }
    }

    #[test]
    fn binary_content_is_refused_with_its_line() {
        let mut bytes = b"Contact ID,First Name\n1,Ann\n".to_vec();
        bytes.extend((0..2000u32).map(|i| (i * 7919 % 251) as u8));
        let e = decode(&bytes, None).unwrap_err();
        assert!(e.contains("line 3") && e.contains("binary"), "{e}");
        // A PNG signature and header.
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00";
        assert!(decode(png, None).unwrap_err().contains("binary"));
        // A stray control character in a real export is not binary.
        assert!(decode(b"a,b\n1,x\x0by\n", None).is_ok());
    }

    #[test]
    fn controls_are_counted_as_the_rule_says() {
        let is_control = |b: u8| {
            (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1a)) || b == 0x7f
        };
        let every: Vec<u8> = (0..=255u8).collect();
        // Longer than one chunk, with a control in every one of them.
        let long: Vec<u8> = (0..100_000u32).map(|i| (i * 7919 % 256) as u8).collect();
        let none = b"a,b\r\n\t1,x\x0by\x0c\x1a\n".repeat(40);
        for bytes in [&every[..], &long, &none, &[0u8; 600], b""] {
            let want = bytes.iter().filter(|&&b| is_control(b)).count();
            assert_eq!(count_controls(bytes), want);
        }
    }

    #[test]
    fn forced_label() {
        let d = decode(b"\xe9", Some("latin1")).unwrap();
        assert_eq!(d.text, "é");
        assert!(decode(b"x", Some("klingon")).is_err());
    }
}
