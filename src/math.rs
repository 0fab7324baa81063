//! PLACEHOLDER until the polynomial kernels land (uses std; replaced).
pub fn ln_f32(x: f32) -> f32 {
    x.ln()
}
pub fn ln_f64(x: f64) -> f64 {
    x.ln()
}
pub fn ln_1p_f32(x: f32) -> f32 {
    x.ln_1p()
}
pub fn ln_1p_f64(x: f64) -> f64 {
    x.ln_1p()
}
pub fn exp_f32(x: f32) -> f32 {
    x.exp()
}
pub fn exp_f64(x: f64) -> f64 {
    x.exp()
}
