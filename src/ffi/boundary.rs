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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use crate::ffi::status::GUMBEL_STATUS_INVALID_SHAPE;

    fn message() -> String {
        let mut buf = [0 as std::ffi::c_char; 128];
        unsafe { crate::ffi::gumbel_last_error(buf.as_mut_ptr(), buf.len()) };
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn panics_become_a_status_and_a_message() {
        assert_eq!(guard(|| panic!("boom {}", 7)), GUMBEL_STATUS_PANIC);
        assert_eq!(message(), "internal error (please report): boom 7");
    }

    #[test]
    fn errors_become_their_status_and_message() {
        assert_eq!(
            guard(|| Err(Error::new(ErrorKind::InvalidShape, "bad"))),
            GUMBEL_STATUS_INVALID_SHAPE
        );
        assert_eq!(message(), "bad");
        assert_eq!(guard(|| Ok(())), GUMBEL_STATUS_OK);
    }
}
