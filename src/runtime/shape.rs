//! The `(outer, classes, inner)` view of a tensor.
//!
//! Every categorical operation sees its input as a contiguous row-major tensor
//! of shape `(outer, classes, inner)` with the class axis in the middle. A
//! `(rows, K)` matrix is `(rows, K, 1)`; PyTorch's `dim = d` on a contiguous
//! tensor of shape `s` is `outer = prod(s[..d])`, `classes = s[d]`,
//! `inner = prod(s[d+1..])`. A *row* is one distribution: there are
//! `outer * inner` of them, numbered `r = o * inner + i`.

use crate::error::{Error, ErrorKind, Result};

/// A validated `(outer, classes, inner)` shape: `classes >= 1` and
/// `outer * classes * inner` fits in `usize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    outer: usize,
    classes: usize,
    inner: usize,
}

impl Shape {
    /// Checks and builds a shape.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidShape`] if `classes == 0`;
    /// [`ErrorKind::SizeOverflow`] if `outer * classes * inner` overflows `usize`.
    pub fn new(outer: usize, classes: usize, inner: usize) -> Result<Self> {
        if classes == 0 {
            return Err(Error::new(
                ErrorKind::InvalidShape,
                format!("classes must be at least 1, got shape ({outer}, 0, {inner})"),
            ));
        }
        outer
            .checked_mul(classes)
            .and_then(|n| n.checked_mul(inner))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::SizeOverflow,
                    format!(
                        "shape ({outer}, {classes}, {inner}) has more elements than fit in size_t"
                    ),
                )
            })?;
        Ok(Self {
            outer,
            classes,
            inner,
        })
    }

    /// A `(rows, classes)` matrix, i.e. `(rows, classes, 1)`.
    pub fn matrix(rows: usize, classes: usize) -> Result<Self> {
        Self::new(rows, classes, 1)
    }

    /// The size of the leading axis.
    pub fn outer(&self) -> usize {
        self.outer
    }

    /// The number of classes `K` (the middle axis), at least 1.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The size of the trailing axis.
    pub fn inner(&self) -> usize {
        self.inner
    }

    /// The number of rows (distributions), `outer * inner`.
    pub fn rows(&self) -> usize {
        self.outer * self.inner
    }

    /// The number of elements, `outer * classes * inner`.
    pub fn len(&self) -> usize {
        self.outer * self.classes * self.inner
    }

    /// True if the tensor has no elements (`outer == 0` or `inner == 0`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Memory index of element `(row, class)`.
    #[inline]
    pub(crate) fn index(&self, row: usize, class: usize) -> usize {
        let (o, i) = (row / self.inner, row % self.inner);
        (o * self.classes + class) * self.inner + i
    }

    /// `(row, class)` of memory index `index`.
    pub(crate) fn position(&self, index: usize) -> (usize, usize) {
        let i = index % self.inner;
        let class = (index / self.inner) % self.classes;
        let o = index / (self.inner * self.classes);
        (o * self.inner + i, class)
    }

    /// Checks that a buffer called `name` of `len` elements holds `expected`.
    pub(crate) fn check_len(&self, name: &str, len: usize, expected: usize) -> Result<()> {
        if len == expected {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidShape,
                format!(
                    "{name} has {len} elements but shape ({}, {}, {}) needs {expected}",
                    self.outer, self.classes, self.inner
                ),
            ))
        }
    }
}
