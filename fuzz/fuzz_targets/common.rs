//! Input decoding shared by the fuzz targets: a byte reader and the value
//! sets the fuzzer draws from (ordinary numbers, extremes and non-finite).

pub struct Bytes<'a>(pub &'a [u8]);

impl Bytes<'_> {
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn u64(&mut self) -> u64 {
        (0..8).fold(0, |a, _| (a << 8) | u64::from(self.u8()))
    }
    /// A value: mostly moderate multiples of 1/8, sometimes an extreme,
    /// a non-finite value or raw bits.
    pub fn value(&mut self) -> f64 {
        match self.u8() {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 | 3 => f64::NEG_INFINITY,
            4 => f64::MAX,
            5 => -f64::MAX,
            6 => f64::from_bits(1),
            7 => f32::MAX as f64 * 0.75,
            8 => f64::from_bits(self.u64()),
            9 => f32::from_bits(self.u64() as u32) as f64,
            b => (f64::from(b) - 128.0) / 8.0 * if self.u8() & 1 == 0 { 1.0 } else { 100.0 },
        }
    }
    /// A temperature: usually positive, sometimes 0, negative, subnormal,
    /// huge or non-finite.
    pub fn tau(&mut self) -> f64 {
        match self.u8() {
            0 => 0.0,
            1 => -1.0,
            2 => f64::NAN,
            3 => f64::INFINITY,
            4 => f64::from_bits(1),
            5 => f32::from_bits(1) as f64,
            6 => 1e30,
            7 => 1e-30,
            b => f64::from(b) / 32.0,
        }
    }
}

pub const SENTINEL: f64 = 12345.0;
