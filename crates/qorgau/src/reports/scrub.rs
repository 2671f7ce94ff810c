//! Removes what identifies a person from a report's attachments before anything is stored:
//! EXIF (camera, time, GPS), XMP, IPTC and comments from photos, the information dictionary and
//! XMP from PDFs, and document properties and reviewer names from Word files. Pure: bytes in,
//! bytes out, so it is unit-tested and fuzzed.
//!
//! The kind is taken from the bytes, never from the name or the declared type.

use std::io::{Cursor, Read, Write};

/// The attachment kinds a report accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Pdf,
    Docx,
}

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Pdf => "application/pdf",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Jpeg => "jpg",
            Kind::Png => "png",
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScrubError {
    #[error("not a photo (JPEG, PNG), PDF or Word document")]
    Unsupported,
    #[error("the file is damaged: {0}")]
    Malformed(&'static str),
}

/// What the bytes are, by their signature.
pub fn sniff(b: &[u8]) -> Option<Kind> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Kind::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Kind::Png)
    } else if b.starts_with(b"%PDF-") {
        Some(Kind::Pdf)
    } else if b.starts_with(b"PK\x03\x04") {
        Some(Kind::Docx)
    } else {
        None
    }
}

/// The file without its identifying metadata.
pub fn scrub(b: &[u8]) -> Result<(Kind, Vec<u8>), ScrubError> {
    let kind = sniff(b).ok_or(ScrubError::Unsupported)?;
    let out = match kind {
        Kind::Jpeg => jpeg(b)?,
        Kind::Png => png(b)?,
        Kind::Pdf => pdf(b)?,
        Kind::Docx => docx(b)?,
    };
    Ok((kind, out))
}

/// Keeps the segments a decoder needs (tables, frame, scans), JFIF, the ICC colour profile and
/// Adobe's colour transform; drops every other application segment (EXIF, XMP, IPTC, maker
/// notes) and comments. EXIF's orientation goes with it, so a photo may show turned: the price
/// of not keeping a field of a block that also holds GPS.
fn jpeg(b: &[u8]) -> Result<Vec<u8>, ScrubError> {
    let bad = ScrubError::Malformed;
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        if i >= b.len() || b[i] != 0xFF {
            return Err(bad("jpeg marker"));
        }
        while i < b.len() && b[i] == 0xFF {
            i += 1;
        }
        let Some(&m) = b.get(i) else {
            return Err(bad("jpeg marker"));
        };
        i += 1;
        match m {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            // The scan and whatever follows it are image data.
            0xDA => {
                out.extend_from_slice(&[0xFF, 0xDA]);
                out.extend_from_slice(&b[i..]);
                return Ok(out);
            }
            0x01 | 0xD0..=0xD7 => out.extend_from_slice(&[0xFF, m]),
            _ => {
                let len = b
                    .get(i..i + 2)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                    .ok_or(bad("jpeg length"))?;
                if len < 2 || i + len > b.len() {
                    return Err(bad("jpeg length"));
                }
                let seg = &b[i..i + len];
                let body = &seg[2..];
                let keep = match m {
                    0xE0 => body.starts_with(b"JFIF\0") || body.starts_with(b"JFXX\0"),
                    0xE2 => body.starts_with(b"ICC_PROFILE\0"),
                    0xEE => body.starts_with(b"Adobe"),
                    0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(&[0xFF, m]);
                    out.extend_from_slice(seg);
                }
                i += len;
            }
        }
    }
}

/// Keeps the chunks that draw the image (and animate it); drops text, time and EXIF chunks and
/// any other ancillary chunk this list does not know.
fn png(b: &[u8]) -> Result<Vec<u8>, ScrubError> {
    const KEEP: [&[u8; 4]; 17] = [
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB",
        b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT",
    ];
    let bad = ScrubError::Malformed;
    let mut out = b[..8].to_vec();
    let mut i = 8;
    let mut ended = false;
    while i < b.len() {
        let head = b.get(i..i + 8).ok_or(bad("png chunk"))?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        let end = i
            .checked_add(12)
            .and_then(|x| x.checked_add(len))
            .filter(|e| *e <= b.len())
            .ok_or(bad("png chunk length"))?;
        // An unknown critical chunk (upper-case first letter) is kept: a decoder must see it.
        if KEEP.contains(&&kind) || kind[0].is_ascii_uppercase() {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
        if &kind == b"IEND" {
            ended = true;
            break;
        }
    }
    if !ended {
        return Err(bad("png without IEND"));
    }
    Ok(out)
}

/// Drops the document information dictionary (author, creator, producer, dates), every XMP
/// metadata stream, applications' private data and the file identifiers.
fn pdf(b: &[u8]) -> Result<Vec<u8>, ScrubError> {
    use lopdf::{Document, Object};
    let mut doc = Document::load_mem(b).map_err(|_| ScrubError::Malformed("pdf"))?;
    if doc.is_encrypted() {
        return Err(ScrubError::Unsupported);
    }
    doc.trailer.remove(b"Info");
    doc.trailer.remove(b"ID");
    let mut metadata = vec![];
    for (id, obj) in doc.objects.iter_mut() {
        let dict = match obj {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => {
                if s.dict.get(b"Type").and_then(Object::as_name).ok() == Some(b"Metadata") {
                    metadata.push(*id);
                }
                Some(&mut s.dict)
            }
            _ => None,
        };
        if let Some(d) = dict {
            d.remove(b"Metadata");
            d.remove(b"PieceInfo");
        }
    }
    for id in metadata {
        doc.objects.remove(&id);
    }
    // The information dictionary and anything else nothing refers to any more.
    doc.prune_objects();
    let mut out = vec![];
    doc.save_to(&mut out)
        .map_err(|_| ScrubError::Malformed("pdf"))?;
    Ok(out)
}

const CORE: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"></cp:coreProperties>"#;
const APP: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"></Properties>"#;
const CUSTOM: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"></Properties>"#;

/// Limits against a zip bomb: what a report's document may expand to.
const DOCX_MAX_ENTRIES: usize = 2_000;
const DOCX_MAX_EXPANDED: u64 = 64 * 1024 * 1024;

/// Rewrites a Word document with empty core, application and custom properties (author, last
/// editor, company, manager, template, times) and without the names and initials that comments
/// and tracked changes carry; every entry gets the zip format's zero time.
fn docx(b: &[u8]) -> Result<Vec<u8>, ScrubError> {
    let bad = |_| ScrubError::Malformed("docx");
    let mut zip = zip::ZipArchive::new(Cursor::new(b)).map_err(bad)?;
    if zip.len() > DOCX_MAX_ENTRIES {
        return Err(ScrubError::Malformed("docx: too many parts"));
    }
    if zip.by_name("word/document.xml").is_err() {
        return Err(ScrubError::Unsupported);
    }
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut expanded = 0u64;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(bad)?;
        if f.is_dir() {
            continue;
        }
        let name = f.name().map_err(bad)?.into_owned();
        let mut data = vec![];
        (&mut f)
            .take(DOCX_MAX_EXPANDED - expanded + 1)
            .read_to_end(&mut data)
            .map_err(|_| ScrubError::Malformed("docx"))?;
        expanded += data.len() as u64;
        if expanded > DOCX_MAX_EXPANDED {
            return Err(ScrubError::Malformed("docx: expands too far"));
        }
        let data = match name.as_str() {
            "docProps/core.xml" => CORE.as_bytes().to_vec(),
            "docProps/app.xml" => APP.as_bytes().to_vec(),
            "docProps/custom.xml" => CUSTOM.as_bytes().to_vec(),
            n if n.starts_with("word/") && n.ends_with(".xml") => {
                let text = String::from_utf8(data).map_err(|_| ScrubError::Malformed("docx"))?;
                let text = blank_attr(&text, "w:author");
                let text = blank_attr(&text, "w:initials");
                text.into_bytes()
            }
            _ => data,
        };
        out.start_file(name, opts).map_err(bad)?;
        out.write_all(&data)
            .map_err(|_| ScrubError::Malformed("docx"))?;
    }
    Ok(out.finish().map_err(bad)?.into_inner())
}

/// Every `attr="..."` in `xml` with its value emptied.
fn blank_attr(xml: &str, attr: &str) -> String {
    let needle = format!("{attr}=\"");
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(at) = rest.find(&needle) {
        let start = at + needle.len();
        out.push_str(&rest[..start]);
        match rest[start..].find('"') {
            Some(end) => {
                out.push('"');
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&u16::try_from(body.len() + 2).unwrap_or(0).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// A JPEG's structure around a tiny scan: what the scrubber walks.
    fn jpeg_with(exif: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        v.extend(seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        v.extend(seg(0xE1, exif));
        v.extend(seg(
            0xE1,
            b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Aigerim</x:xmpmeta>",
        ));
        v.extend(seg(0xED, b"Photoshop 3.0\08BIM author"));
        v.extend(seg(0xFE, b"taken by Aigerim"));
        v.extend(seg(0xE2, b"ICC_PROFILE\0\x01\x01colour"));
        v.extend(seg(0xDB, &[0u8; 65]));
        v.extend(seg(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]));
        v.extend(seg(0xDA, &[1, 1, 0, 0, 63, 0]));
        v.extend_from_slice(&[0x12, 0x34, 0xFF, 0x00, 0x56]);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    fn find(h: &[u8], n: &[u8]) -> bool {
        h.windows(n.len()).any(|w| w == n)
    }

    #[test]
    fn jpeg_loses_exif_xmp_iptc_and_comments_and_keeps_the_image() {
        let exif = b"Exif\0\0MM\0*GPSLatitude 43.2389 Canon EOS";
        let (kind, out) = scrub(&jpeg_with(exif)).expect("scrub");
        assert_eq!(kind, Kind::Jpeg);
        for gone in [
            &b"GPSLatitude"[..],
            b"Canon",
            b"Aigerim",
            b"8BIM",
            b"xmpmeta",
        ] {
            assert!(!find(&out, gone), "{}", String::from_utf8_lossy(gone));
        }
        for kept in [
            &b"JFIF"[..],
            b"ICC_PROFILE",
            &[0xFF, 0xC0],
            &[0x12, 0x34, 0xFF, 0x00, 0x56],
        ] {
            assert!(find(&out, kept));
        }
        assert!(out.ends_with(&[0xFF, 0xD9]));
        // Scrubbing twice changes nothing more.
        assert_eq!(scrub(&out).expect("again").1, out);
    }

    #[test]
    fn damaged_jpegs_are_refused_not_panicked_on() {
        let good = jpeg_with(b"Exif\0\0");
        for cut in [3, 5, 7, 20, 40] {
            let r = scrub(&good[..cut]);
            assert!(
                matches!(r, Err(ScrubError::Malformed(_))),
                "cut at {cut}: {r:?}"
            );
        }
        let mut zero = vec![0xFF, 0xD8];
        zero.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x00]);
        assert!(scrub(&zero).is_err());
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = u32::try_from(data.len())
            .unwrap_or(0)
            .to_be_bytes()
            .to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(data);
        v.extend_from_slice(&[0, 0, 0, 0]);
        v
    }

    #[test]
    fn png_loses_text_time_and_exif() {
        let mut p = b"\x89PNG\r\n\x1a\n".to_vec();
        p.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
        p.extend(chunk(b"tEXt", b"Author\0Aigerim"));
        p.extend(chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<GPS/>"));
        p.extend(chunk(b"eXIf", b"MM\0*GPSLatitude"));
        p.extend(chunk(b"tIME", &[7, 234, 3, 21, 3, 0, 0]));
        p.extend(chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]));
        p.extend(chunk(b"IDAT", &[1, 2, 3]));
        p.extend(chunk(b"IEND", &[]));
        let (kind, out) = scrub(&p).expect("scrub");
        assert_eq!(kind, Kind::Png);
        for gone in [&b"Aigerim"[..], b"GPS", b"tIME", b"eXIf"] {
            assert!(!find(&out, gone));
        }
        for kept in [&b"IHDR"[..], b"pHYs", b"IDAT", b"IEND"] {
            assert!(find(&out, kept));
        }
        assert!(scrub(&p[..p.len() - 5]).is_err(), "cut inside IEND");
    }

    fn pdf_with_metadata() -> Vec<u8> {
        use lopdf::{Document, Object, Stream, dictionary};
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "MediaBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(
                dictionary! {"Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1},
            ),
        );
        let xmp = doc.add_object(Stream::new(
            dictionary! {"Type" => "Metadata", "Subtype" => "XML"},
            b"<x:xmpmeta><dc:creator>Aigerim Nurlanovna</dc:creator></x:xmpmeta>".to_vec(),
        ));
        let catalog = doc
            .add_object(dictionary! {"Type" => "Catalog", "Pages" => pages_id, "Metadata" => xmp});
        let info = doc.add_object(dictionary! {
            "Author" => Object::string_literal("Aigerim Nurlanovna"),
            "Producer" => Object::string_literal("Scanner of ward 3"),
        });
        doc.trailer.set("Root", catalog);
        doc.trailer.set("Info", info);
        let mut out = vec![];
        doc.save_to(&mut out).expect("save");
        out
    }

    #[test]
    fn pdf_loses_its_information_dictionary_and_xmp() {
        let src = pdf_with_metadata();
        assert!(find(&src, b"Aigerim"));
        let (kind, out) = scrub(&src).expect("scrub");
        assert_eq!(kind, Kind::Pdf);
        assert!(!find(&out, b"Aigerim") && !find(&out, b"ward 3"));
        // Still a PDF with its page.
        let doc = lopdf::Document::load_mem(&out).expect("reload");
        assert_eq!(doc.get_pages().len(), 1);
        assert!(scrub(b"%PDF-1.4 garbage").is_err());
    }

    fn docx_with_authors() -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        for (name, body) in [
            ("[Content_Types].xml", "<Types/>"),
            (
                "docProps/core.xml",
                "<cp:coreProperties><dc:creator>Aigerim</dc:creator><cp:lastModifiedBy>Aigerim</cp:lastModifiedBy></cp:coreProperties>",
            ),
            (
                "docProps/app.xml",
                "<Properties><Company>City Hospital 7</Company><Manager>Dr Serik</Manager></Properties>",
            ),
            (
                "word/document.xml",
                r#"<w:document><w:ins w:id="1" w:author="Aigerim N" w:date="2026-03-21T03:00:00Z">text</w:ins></w:document>"#,
            ),
            (
                "word/comments.xml",
                r#"<w:comments><w:comment w:id="0" w:author="Aigerim N" w:initials="AN">see</w:comment></w:comments>"#,
            ),
        ] {
            z.start_file(name, o).expect("start");
            z.write_all(body.as_bytes()).expect("write");
        }
        z.finish().expect("finish").into_inner()
    }

    fn unzip_all(b: &[u8]) -> String {
        let mut z = zip::ZipArchive::new(Cursor::new(b)).expect("zip");
        let mut all = String::new();
        for i in 0..z.len() {
            let mut f = z.by_index(i).expect("entry");
            f.read_to_string(&mut all).expect("read");
        }
        all
    }

    #[test]
    fn word_documents_lose_properties_and_reviewer_names() {
        let (kind, out) = scrub(&docx_with_authors()).expect("scrub");
        assert_eq!(kind, Kind::Docx);
        let text = unzip_all(&out);
        for gone in ["Aigerim", "City Hospital", "Dr Serik", "AN\""] {
            assert!(!text.contains(gone), "{gone} in {text}");
        }
        assert!(
            text.contains("text") && text.contains("see"),
            "content stays"
        );
        // Another zip is not a Word document.
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        z.start_file("a.txt", zip::write::SimpleFileOptions::default())
            .expect("start");
        let other = z.finish().expect("finish").into_inner();
        assert_eq!(scrub(&other), Err(ScrubError::Unsupported));
    }

    #[test]
    fn attributes_are_blanked_everywhere_and_odd_input_survives() {
        assert_eq!(
            blank_attr(r#"<a w:author="X" b="1"/><c w:author="Y"/>"#, "w:author"),
            r#"<a w:author="" b="1"/><c w:author=""/>"#
        );
        assert_eq!(
            blank_attr(r#"<a w:author="unterminated"#, "w:author"),
            r#"<a w:author="unterminated"#
        );
        assert_eq!(scrub(b"hello"), Err(ScrubError::Unsupported));
        assert_eq!(scrub(b""), Err(ScrubError::Unsupported));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_bytes(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300), which in 0usize..4) {
            let head: &[u8] = [&b"\xFF\xD8\xFF"[..], b"\x89PNG\r\n\x1a\n", b"%PDF-", b"PK\x03\x04"][which];
            let mut b = head.to_vec();
            b.extend(tail);
            let _ = scrub(&b);
        }
    }
}
