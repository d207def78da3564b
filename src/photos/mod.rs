//! Product photos from a phone: hostile bytes made into a JPEG the
//! catalogue can take. The bytes are bounded before they are read, the
//! pixels before they are decoded (from the header alone), and the decoding
//! runs under the `image` crate's limits. What is kept is re-encoded: at
//! most `longest_side` pixels on its longest side, turned the way the phone
//! held it, and without any metadata (a phone's EXIF carries the GPS
//! position where the photo was taken). It is named by the SHA-256 of the
//! JPEG, so the same photo sent twice is kept once.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};
use sha2::{Digest, Sha256};

use crate::config::PhotoSettings;

/// The bounds a photo is held to.
#[derive(Debug, Clone, Copy)]
pub struct PhotoLimits {
    /// The file's size.
    pub max_bytes: usize,
    /// Width × height, read from the header before anything is decoded.
    pub max_pixels: u64,
    /// The catalogue's minimum, on both sides.
    pub min_side: u32,
    /// The kept JPEG's longest side.
    pub longest_side: u32,
    pub jpeg_quality: u8,
}

impl PhotoLimits {
    pub fn from_settings(s: &PhotoSettings) -> Self {
        Self {
            max_bytes: s.max_bytes,
            max_pixels: s.max_pixels,
            min_side: s.min_side_px,
            longest_side: s.longest_side_px,
            jpeg_quality: s.jpeg_quality.clamp(1, 100),
        }
    }
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self::from_settings(&PhotoSettings::default())
    }
}

/// A photo ready to keep: the re-encoded JPEG and its name.
#[derive(Clone)]
pub struct Prepared {
    /// Lower-case hex SHA-256 of `jpeg`.
    pub digest: String,
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Why a photo was refused; each says it in English and in Bahasa Indonesia.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the file is {bytes} bytes; a photo may be at most {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error("the image is {width} × {height} pixels; at most {max} pixels are read")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the image is {width} × {height} pixels; the catalogue needs at least {min} pixels on each side")]
    TooSmall { width: u32, height: u32, min: u32 },
    #[error("the image could not be read: {0}")]
    Unreadable(String),
}

impl PhotoError {
    pub fn indonesian(&self) -> String {
        match self {
            Self::TooLarge { bytes, max } => {
                format!("berkas {} MB; foto paling besar {} MB", mebibytes(*bytes), mebibytes(*max))
            }
            Self::Empty => "berkas kosong".into(),
            Self::NotAnImage => "berkas bukan gambar JPEG, PNG atau WebP".into(),
            Self::TooManyPixels { width, height, max } => {
                format!("gambar {width} × {height} piksel terlalu besar; paling banyak {} juta piksel", max / 1_000_000)
            }
            Self::TooSmall { width, height, min } => {
                format!("gambar {width} × {height} piksel terlalu kecil; katalog meminta paling sedikit {min} piksel tiap sisi")
            }
            Self::Unreadable(_) => "gambar rusak atau terpotong: ambil atau kirim ulang fotonya".into(),
        }
    }

    /// A short code for the audit log and `--json`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "too_large",
            Self::Empty => "empty",
            Self::NotAnImage => "not_an_image",
            Self::TooManyPixels { .. } => "too_many_pixels",
            Self::TooSmall { .. } => "too_small",
            Self::Unreadable(_) => "unreadable",
        }
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Prepared {{ {} × {}, {} bytes, {} }}", self.width, self.height, self.jpeg.len(), self.digest)
    }
}

fn mebibytes(bytes: usize) -> String {
    crate::domain::money::decimal_id(rust_decimal::Decimal::from(bytes as u64 * 10 / (1 << 20)) / rust_decimal::Decimal::TEN)
}

/// Checks a photo and makes the JPEG that is kept. CPU-bound (tens to
/// hundreds of milliseconds for a phone's photo): call it off the async
/// threads, and one at a time, since a decoded photo holds up to
/// `max_pixels` × 4 bytes.
pub fn prepare(bytes: &[u8], limits: &PhotoLimits) -> Result<Prepared, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge { bytes: bytes.len(), max: limits.max_bytes });
    }
    let format = sniff(bytes).ok_or(PhotoError::NotAnImage)?;
    // A JPEG's decoder fills a cut-off file with grey: its end is checked first.
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(PhotoError::Unreadable("the JPEG ends before its end marker".into()));
    }
    let reader = || {
        let mut reader = ImageReader::new(Cursor::new(bytes));
        reader.set_format(format);
        reader
    };
    // The header alone: a 60,000 × 60,000 image of a few kilobytes stops here.
    let (width, height) = reader().into_dimensions().map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PhotoError::TooManyPixels { width, height, max: limits.max_pixels });
    }
    if width.min(height) < limits.min_side {
        return Err(PhotoError::TooSmall { width, height, min: limits.min_side });
    }
    let mut reader = reader();
    let mut bounds = Limits::default();
    bounds.max_image_width = Some(width);
    bounds.max_image_height = Some(height);
    // The decoded pixels (at most 4 bytes each, 16-bit images 8) and the decoder's own buffers.
    bounds.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(bounds);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let image = if image.width().max(image.height()) > limits.longest_side {
        image.resize(limits.longest_side, limits.longest_side, image::imageops::FilterType::Triangle)
    } else {
        image
    };
    let rgb = on_white(image);
    let mut jpeg = Vec::with_capacity(256 * 1024);
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, limits.jpeg_quality);
    rgb.write_with_encoder(encoder).map_err(unreadable)?;
    let digest = hex::encode(Sha256::digest(&jpeg));
    Ok(Prepared { digest, width: rgb.width(), height: rgb.height(), jpeg })
}

/// The format from the file's first bytes (never from its name or the
/// type the browser claims): JPEG, PNG or WebP only.
fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => Some(f),
        _ => None,
    }
}

/// Whether a JPEG's image data runs to its end marker (EOI). The segments
/// before the image data are stepped over by their lengths (an EXIF
/// thumbnail's own end marker lies inside one); within the image data a
/// 0xFF byte is always followed by 0x00 or a restart marker, so the first
/// 0xFF 0xD9 there is the end.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    while at + 1 < bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        match marker {
            0xFF => at += 1,
            0x01 | 0xD0..=0xD7 => at += 2,
            0xD9 => return false,
            _ => {
                let Some(length) = bytes.get(at + 2..at + 4).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) else { return false };
                if marker == 0xDA {
                    return bytes.get(at + 2 + length..).is_some_and(|data| data.windows(2).any(|w| w == [0xFF, 0xD9]));
                }
                at += 2 + length;
            }
        }
    }
    false
}

fn unreadable(e: image::ImageError) -> PhotoError {
    match e {
        image::ImageError::Limits(_) => PhotoError::Unreadable("the image needs more memory than a photo may take".into()),
        image::ImageError::Unsupported(_) => PhotoError::NotAnImage,
        other => PhotoError::Unreadable(other.to_string().chars().take(200).collect()),
    }
}

/// The image as RGB, a transparent part laid on white (a JPEG has no
/// transparency, and black behind a product looks wrong).
fn on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(p.0[3]);
        for c in 0..3 {
            o.0[c] = ((u16::from(p.0[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gradient, so that which way it is turned can be seen.
    fn picture(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128]))
    }

    fn jpeg_of(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        image.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)).unwrap();
        out
    }

    /// An EXIF block as a phone writes one: turned a quarter (orientation 6)
    /// and a GPS position (latitude 7° 28' S).
    fn exif_with_gps() -> Vec<u8> {
        let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
        // IFD0 at 8: two entries, then the next-IFD offset.
        tiff.extend([2, 0]);
        tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]); // Orientation = 6
        tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]); // GPSInfo IFD at 38
        tiff.extend([0, 0, 0, 0]);
        // GPS IFD at 38: latitude ref "S", latitude 7/1 28/1 0/1 (rationals at 68).
        tiff.extend([2, 0]);
        tiff.extend([1, 0, 2, 0, 2, 0, 0, 0, b'S', 0, 0, 0]);
        tiff.extend([2, 0, 5, 0, 3, 0, 0, 0, 68, 0, 0, 0]);
        tiff.extend([0, 0, 0, 0]);
        for (n, d) in [(7u32, 1u32), (28, 1), (0, 1)] {
            tiff.extend(n.to_le_bytes());
            tiff.extend(d.to_le_bytes());
        }
        let mut app1 = vec![0xFF, 0xE1];
        let len = (2 + 6 + tiff.len()) as u16;
        app1.extend(len.to_be_bytes());
        app1.extend(b"Exif\0\0");
        app1.extend(tiff);
        app1
    }

    fn with_exif(jpeg: &[u8]) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        out.extend(exif_with_gps());
        out.extend(&jpeg[2..]);
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_phone_photo_is_turned_upright_shrunk_and_loses_its_exif_and_gps() {
        let original = with_exif(&jpeg_of(&picture(2400, 1800)));
        assert!(contains(&original, b"Exif\0\0"), "the test photo carries EXIF");
        let kept = prepare(&original, &PhotoLimits::default()).unwrap();
        // Orientation 6: stored landscape, shown portrait.
        assert_eq!((kept.width, kept.height), (1200, 1600));
        assert!(!contains(&kept.jpeg, b"Exif"), "no EXIF block is kept");
        assert!(!kept.jpeg.windows(2).any(|w| w == [0xFF, 0xE1]), "no APP1 segment at all");
        let back = image::load_from_memory_with_format(&kept.jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1200, 1600), "the kept file is a JPEG of the size said");
        // Turned clockwise: the original's top left (dark red, dark green) is now top right.
        let top_right = back.to_rgb8().get_pixel(1195, 5).0;
        assert!(top_right[0] < 40 && top_right[1] < 40, "{top_right:?}");
        assert_eq!(kept.digest, hex::encode(Sha256::digest(&kept.jpeg)));
        // The same photo again is the same file, so it is kept once.
        assert_eq!(prepare(&original, &PhotoLimits::default()).unwrap().digest, kept.digest);
    }

    /// The CRC-32 of PNG chunks (ISO 3309), bit by bit.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
        out
    }

    /// A PNG that claims 60,000 × 60,000 pixels in a few dozen bytes.
    fn pixel_bomb() -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = 60_000u32.to_be_bytes().to_vec();
        ihdr.extend(60_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        png.extend(chunk(b"IHDR", &ihdr));
        // A deflate stream of a few rows of zeros, far short of what the header claims.
        png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]));
        png.extend(chunk(b"IEND", &[]));
        png
    }

    #[test]
    fn hostile_files_are_refused_with_their_reason() {
        let limits = PhotoLimits::default();
        let bomb = pixel_bomb();
        assert!(bomb.len() < 100);
        assert_eq!(prepare(&bomb, &limits).unwrap_err(), PhotoError::TooManyPixels { width: 60_000, height: 60_000, max: 50_000_000 });
        // A photo cut off halfway.
        let whole = jpeg_of(&picture(800, 600));
        let cut = &whole[..whole.len() / 2];
        let err = prepare(cut, &limits).unwrap_err();
        assert!(matches!(err, PhotoError::Unreadable(_)), "{err:?}");
        assert!(err.indonesian().contains("terpotong"));
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(picture(800, 600)).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let err = prepare(&png[..png.len() * 2 / 3], &limits).unwrap_err();
        assert!(matches!(err, PhotoError::Unreadable(_)), "a cut-off PNG: {err:?}");
        // Not an image at all, whatever its name says.
        assert_eq!(prepare(b"kode_anggota;sku\nA;1\n", &limits).unwrap_err(), PhotoError::NotAnImage);
        assert_eq!(prepare(b"GIF89a\x01\0\x01\0\0\0\0;", &limits).unwrap_err(), PhotoError::NotAnImage);
        assert_eq!(prepare(&[], &limits).unwrap_err(), PhotoError::Empty);
        // 30 MB: refused from its length.
        let big = vec![0u8; 30 << 20];
        assert_eq!(prepare(&big, &limits).unwrap_err(), PhotoError::TooLarge { bytes: 30 << 20, max: 20 << 20 });
        assert_eq!(PhotoError::TooLarge { bytes: 30 << 20, max: 20 << 20 }.indonesian(), "berkas 30 MB; foto paling besar 20 MB");
        // Below the catalogue's 300 pixels.
        let small = jpeg_of(&picture(640, 240));
        assert_eq!(prepare(&small, &limits).unwrap_err(), PhotoError::TooSmall { width: 640, height: 240, min: 300 });
    }

    #[test]
    fn png_and_webp_are_taken_and_transparency_lies_on_white() {
        let limits = PhotoLimits::default();
        let clear = image::RgbaImage::from_pixel(400, 400, image::Rgba([0, 0, 0, 0]));
        let mut png = Vec::new();
        clear.write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let kept = prepare(&png, &limits).unwrap();
        assert_eq!((kept.width, kept.height), (400, 400), "a photo within bounds keeps its size");
        let back = image::load_from_memory(&kept.jpeg).unwrap().to_rgb8();
        assert!(back.get_pixel(200, 200).0.iter().all(|c| *c > 245), "{:?}", back.get_pixel(200, 200));
        let mut webp = Vec::new();
        image::DynamicImage::ImageRgb8(picture(500, 350)).write_to(&mut Cursor::new(&mut webp), ImageFormat::WebP).unwrap();
        let kept = prepare(&webp, &limits).unwrap();
        assert_eq!((kept.width, kept.height), (500, 350));
        assert_eq!(image::guess_format(&kept.jpeg).unwrap(), ImageFormat::Jpeg);
    }
}
