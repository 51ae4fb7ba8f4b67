//! Photos of ID cards: reading the PDF417 barcode off the back, and re-encoding an image so that no
//! EXIF (GPS position, device serial) is kept with it.
//!
//! Phone photos are rarely square to the card, and ZXing-family decoders fail on dense licence
//! barcodes from about 8° of tilt. So after applying the EXIF orientation the image is tried at 0°,
//! then ±3°, ±6° … ±15° with `TryHarder`; the detector itself covers the 90° turns. Images are
//! decoded with size and allocation limits so a decompression bomb is refused, not expanded.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits, Luma};
use rxing::{BarcodeFormat, DecodeHints};

/// Largest photo side accepted (a 48 MP phone photo is 8000 px wide).
const MAX_SIDE: u32 = 10_000;
/// Largest photo accepted, in pixels (a 48 MP phone photo fits).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Largest decoded image accepted, in bytes: a 48 MP photo at 8 bits per channel with alpha fits,
/// the same at 16 bits does not. Checked from the header, before any pixel is decoded: a few hundred
/// kilobytes of PNG can declare gigabytes of pixels.
pub const MAX_DECODED_BYTES: u64 = 200 * 1024 * 1024;
/// Decoder allocation cap (for the decoders' own buffers).
const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// At most this many photos are decoded at once, whatever the number of requests: with
/// [`MAX_DECODED_BYTES`] that bounds the memory photos can take.
pub const CONCURRENT_DECODES: usize = 2;

static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_DECODES);

/// Runs image work (decoding, the barcode sweep, re-encoding) on the blocking pool, never on the async
/// workers, and never more than [`CONCURRENT_DECODES`] at a time; callers queue for a turn.
pub async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, PhotoError> + Send + 'static,
) -> Result<T, PhotoError> {
    let _turn = DECODES
        .acquire()
        .await
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| PhotoError::Encode(e.to_string()))?
}
/// Photos are scaled down to this long side before decoding: dense barcodes still have several
/// pixels per module, and each decode attempt stays fast.
const DECODE_SIDE: u32 = 2000;
/// Stored ID images are scaled down to this long side (enough to read the card, and small).
const STORED_SIDE: u32 = 1600;
const SWEEP_DEGREES: [f32; 11] = [
    0.0, 3.0, -3.0, 6.0, -6.0, 9.0, -9.0, 12.0, -12.0, 15.0, -15.0,
];

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the upload is not an image we can read (send JPEG, PNG or WebP): {0}")]
    NotAnImage(String),
    #[error("the image is too large (at most {MAX_SIDE} pixels a side and 48 megapixels)")]
    TooLarge,
    #[error("no PDF417 barcode was found in the photo")]
    BarcodeNotFound,
    #[error("could not re-encode the image: {0}")]
    Encode(String),
}

/// Decodes an uploaded image with limits and turns it upright by its EXIF orientation.
pub fn load(bytes: &[u8]) -> Result<DynamicImage, PhotoError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::NotAnImage(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(classify)?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    let bytes = pixels.saturating_mul(u64::from(decoder.color_type().bytes_per_pixel()));
    if width > MAX_SIDE || height > MAX_SIDE || pixels > MAX_PIXELS || bytes > MAX_DECODED_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let orientation = decoder.orientation().map_err(classify)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(classify)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn classify(err: image::ImageError) -> PhotoError {
    match err {
        image::ImageError::Limits(_) => PhotoError::TooLarge,
        other => PhotoError::NotAnImage(other.to_string()),
    }
}

/// The barcode text from a photo of the back of a card (decoded with the barcode's character set,
/// Latin-1 unless it says otherwise).
pub fn read_pdf417(image: &DynamicImage) -> Result<String, PhotoError> {
    let gray = fit(image, DECODE_SIDE).to_luma8();
    for degrees in SWEEP_DEGREES {
        let candidate = if degrees == 0.0 {
            gray.clone()
        } else {
            rotate(&gray, degrees)
        };
        let (width, height) = candidate.dimensions();
        let mut hints = DecodeHints::default().with(rxing::DecodeHintValue::TryHarder(true));
        if let Ok(result) = rxing::helpers::detect_in_luma_with_hints(
            candidate.into_raw(),
            width,
            height,
            Some(BarcodeFormat::PDF_417),
            &mut hints,
        ) {
            let text = result.getText();
            if !text.is_empty() {
                return Ok(text.to_string());
            }
        }
    }
    Err(PhotoError::BarcodeNotFound)
}

/// Re-encodes as JPEG (no metadata is carried over), scaled to a sensible size.
pub fn reencode_jpeg(image: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let rgb = fit(image, STORED_SIDE).to_rgb8();
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    rgb.write_with_encoder(encoder)
        .map_err(|e| PhotoError::Encode(e.to_string()))?;
    Ok(out)
}

fn fit(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width().max(image.height()) <= side {
        image.clone()
    } else {
        image.resize(side, side, image::imageops::FilterType::Triangle)
    }
}

/// Rotates about the centre onto a canvas large enough for the whole picture, filling the corners
/// with white (the quiet zone a barcode detector expects). Bilinear sampling.
pub fn rotate(src: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = src.dimensions();
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (wf, hf) = (w as f32, h as f32);
    let out_w = (wf * cos.abs() + hf * sin.abs()).ceil() as u32;
    let out_h = (wf * sin.abs() + hf * cos.abs()).ceil() as u32;
    let (cx, cy) = (wf / 2.0, hf / 2.0);
    let (ox, oy) = (out_w as f32 / 2.0, out_h as f32 / 2.0);
    GrayImage::from_fn(out_w, out_h, |x, y| {
        let dx = x as f32 + 0.5 - ox;
        let dy = y as f32 + 0.5 - oy;
        // Inverse rotation: where in the source does this output pixel come from?
        let sx = cos * dx + sin * dy + cx - 0.5;
        let sy = -sin * dx + cos * dy + cy - 0.5;
        Luma([sample(src, sx, sy)])
    })
}

fn sample(src: &GrayImage, x: f32, y: f32) -> u8 {
    let (w, h) = src.dimensions();
    let pixel = |px: i64, py: i64| -> f32 {
        if px < 0 || py < 0 || px >= i64::from(w) || py >= i64::from(h) {
            255.0
        } else {
            f32::from(src.get_pixel(px as u32, py as u32).0[0])
        }
    };
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let top = pixel(x0, y0) * (1.0 - fx) + pixel(x0 + 1, y0) * fx;
    let bottom = pixel(x0, y0 + 1) * (1.0 - fx) + pixel(x0 + 1, y0 + 1) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }

    /// A PNG that declares `width`×`height` RGB pixels but carries almost no data: what a
    /// decompression bomb looks like to the header.
    pub(crate) fn png_declaring(width: u32, height: u32, bit_depth: u8) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[bit_depth, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(
            &mut png,
            b"IDAT",
            &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        chunk(&mut png, b"IEND", &[]);
        png
    }

    #[test]
    fn an_image_declaring_too_many_pixels_is_refused_from_its_header() {
        // 10,000 × 10,000 is within the side limit but 100 megapixels (300 MB decoded).
        assert!(matches!(
            load(&png_declaring(10_000, 10_000, 8)),
            Err(PhotoError::TooLarge)
        ));
        // 48 megapixels at 16 bits per channel is 288 MB decoded.
        assert!(matches!(
            load(&png_declaring(8_000, 6_000, 16)),
            Err(PhotoError::TooLarge)
        ));
    }

    #[test]
    fn a_phone_sized_image_passes_the_header_check() {
        // Within budget: decoding proceeds (and fails only because the pixels are missing).
        assert!(matches!(
            load(&png_declaring(4_000, 3_000, 8)),
            Err(PhotoError::NotAnImage(_))
        ));
    }
}
