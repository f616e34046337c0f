//! [`Rare`]: an optional boxed value that is usually absent, whose drop
//! is then a check inline rather than a call.

use std::mem::ManuallyDrop;

/// `Option<Box<T>>`, for a value most requests never have: dropping it
/// when empty costs a comparison where the compiler's drop glue for a
/// large `T` is a call.
pub(crate) struct Rare<T>(ManuallyDrop<Option<Box<T>>>);

impl<T> Rare<T> {
    pub(crate) const fn none() -> Self {
        Self(ManuallyDrop::new(None))
    }

    pub(crate) fn some(value: T) -> Self {
        Self(ManuallyDrop::new(Some(Box::new(value))))
    }

    pub(crate) fn set(&mut self, value: T) {
        *self.0 = Some(Box::new(value));
    }

    pub(crate) fn as_deref(&self) -> Option<&T> {
        self.0.as_deref()
    }

    pub(crate) fn as_deref_mut(&mut self) -> Option<&mut T> {
        self.0.as_deref_mut()
    }

    pub(crate) fn take(&mut self) -> Option<T> {
        self.0.take().map(|value| *value)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Rare<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.as_deref(), f)
    }
}

impl<T> Drop for Rare<T> {
    #[inline]
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            drop_boxed(value);
        }
    }
}

#[inline(never)]
fn drop_boxed<T>(value: Box<T>) {
    drop(value);
}
