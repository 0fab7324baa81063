//! The panic boundary every exported function body runs in.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::last_error;
use super::status::{gumbel_status, status_of, GUMBEL_STATUS_OK, GUMBEL_STATUS_PANIC};
use crate::error::Result;

/// Runs `body`, turning its error into a status (recording the message) and
/// catching any panic as `GUMBEL_STATUS_PANIC`, so no unwind crosses the C
/// boundary.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> gumbel_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => GUMBEL_STATUS_OK,
        Ok(Err(e)) => {
            last_error::set(e.message());
            status_of(e.kind())
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            last_error::set(&format!("internal error (please report): {what}"));
            GUMBEL_STATUS_PANIC
        }
    }
}
