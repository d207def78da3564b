//! Photos (issue 35): how long a hostile image takes to be refused, and
//! what keeping a phone's photo costs against the decoding alone.
//!
//! `cargo bench --bench photos` (`KB_BENCH_RUNS`, default 15): per case the
//! median and range of the runs, in one process. The baseline for a phone's
//! photo is the `image` crate decoding the same bytes and nothing else; the
//! ratio is what the checks, the turn, the shrink and the re-encoding add.

use std::io::Cursor;
use std::time::{Duration, Instant};

use katalog_bridge::photos::{PhotoLimits, prepare};

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
    let mut body = kind.to_vec();
    body.extend(data);
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
    out
}

/// A PNG claiming 60,000 × 60,000 pixels in under 100 bytes.
fn bomb() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = 60_000u32.to_be_bytes().to_vec();
    ihdr.extend(60_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

/// A phone's 12-megapixel photo (4,000 × 3,000), with some texture.
fn phone() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(4000, 3000, |x, y| image::Rgb([(x / 16) as u8, (y / 12) as u8, ((x ^ y) & 0xFF) as u8]));
    let mut jpeg = Vec::new();
    picture.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)).unwrap();
    jpeg
}

fn time(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    let mut out: Vec<Duration> = (0..runs)
        .map(|_| {
            let begun = Instant::now();
            f();
            begun.elapsed()
        })
        .collect();
    out.sort();
    out
}

fn show(name: &str, t: &[Duration]) {
    println!("{name:<44} median {:>10.3} ms  range {:.3}-{:.3} ms", ms(t[t.len() / 2]), ms(t[0]), ms(t[t.len() - 1]));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let runs: usize = std::env::var("KB_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(15).max(3);
    let limits = PhotoLimits::default();
    let bomb = bomb();
    let refused = time(runs, || assert!(prepare(&bomb, &limits).is_err()));
    show(&format!("60,000 x 60,000 PNG of {} bytes refused", bomb.len()), &refused);
    let photo = phone();
    println!("a phone's photo: 4,000 x 3,000 JPEG of {:.1} MB, {runs} runs each, alternating", photo.len() as f64 / 1e6);
    let (mut kept, mut decoded, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let k = time(1, || {
            prepare(&photo, &limits).unwrap();
        })[0];
        let d = time(1, || {
            image::ImageReader::new(Cursor::new(&photo)).with_guessed_format().unwrap().decode().unwrap();
        })[0];
        kept.push(k);
        decoded.push(d);
        ratios.push(k.as_secs_f64() / d.as_secs_f64());
    }
    kept.sort();
    decoded.sort();
    ratios.sort_by(f64::total_cmp);
    show("kept (checked, shrunk, re-encoded)", &kept);
    show("baseline: decoded only", &decoded);
    println!("kept / decoded, run by run: median {:.2} (range {:.2}-{:.2})", ratios[ratios.len() / 2], ratios[0], ratios[ratios.len() - 1]);
}
