//! One way to count by enum: [`counted!`](crate::counted) declares a
//! fieldless enum together with its report names, and [`Counts`] keeps one
//! `u64` per variant in a fixed array (no heap, no hashing: a counter bump
//! is one indexed add). Every counted enum and every report uses these, so
//! a variant's name is written once, beside the variant.

use std::collections::BTreeMap;
use std::marker::PhantomData;

/// Most variants a counted enum may have (the size of [`Counts`]).
pub const MAX_VARIANTS: usize = 16;

/// A fieldless enum whose variants are counted in reports.
pub trait Counted: Copy + 'static {
    /// Every variant, in report order (the order of declaration).
    const ALL: &'static [Self];
    /// Dense index of the variant, `0..ALL.len()`.
    fn index(self) -> usize;
    /// Stable snake_case name used in reports and JSON.
    fn name(self) -> &'static str;
}

/// Declares a fieldless enum and implements [`Counted`] for it: each
/// variant is written `Variant = "report_name"`, with its doc comment.
#[macro_export]
macro_rules! counted {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $label:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $crate::counts::Counted for $name {
            const ALL: &'static [Self] = &[$( $name::$variant ),+];
            #[inline]
            fn index(self) -> usize {
                self as usize
            }
            fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $label ),+
                }
            }
        }

        impl $name {
            /// Stable snake_case name used in reports and JSON.
            $vis fn name(self) -> &'static str {
                <Self as $crate::counts::Counted>::name(self)
            }
        }
    };
}

/// One counter per variant of `E`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Counts<E: Counted> {
    n: [u64; MAX_VARIANTS],
    kind: PhantomData<E>,
}

impl<E: Counted> Default for Counts<E> {
    fn default() -> Self {
        const { assert!(E::ALL.len() <= MAX_VARIANTS, "too many variants for Counts") };
        Counts {
            n: [0; MAX_VARIANTS],
            kind: PhantomData,
        }
    }
}

impl<E: Counted> std::fmt::Debug for Counts<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<E: Counted> Counts<E> {
    /// Adds one to `e`'s counter.
    #[inline]
    pub fn bump(&mut self, e: E) {
        self.add(e, 1);
    }

    /// Adds `n` to `e`'s counter.
    #[inline]
    pub fn add(&mut self, e: E, n: u64) {
        if let Some(c) = self.n.get_mut(e.index()) {
            *c += n;
        }
    }

    /// The count of `e`.
    pub fn get(&self, e: E) -> u64 {
        self.n.get(e.index()).copied().unwrap_or(0)
    }

    /// Sum over every variant.
    pub fn total(&self) -> u64 {
        self.n.iter().sum()
    }

    /// Adds every counter of `other`.
    pub fn merge(&mut self, other: &Counts<E>) {
        for &e in E::ALL {
            self.add(e, other.get(e));
        }
    }

    /// `(name, count)` of every variant, in report order (zeros included).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        E::ALL.iter().map(|&e| (e.name(), self.get(e)))
    }

    /// The counts keyed by name (for JSON reports).
    pub fn to_map(&self) -> BTreeMap<&'static str, u64> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::counted! {
        /// A test enum.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Fruit {
            /// Red.
            Apple = "apple",
            /// Yellow.
            Banana = "banana",
        }
    }

    #[test]
    fn counts_by_variant_and_names_each_once() {
        let mut c = Counts::<Fruit>::default();
        c.bump(Fruit::Banana);
        c.add(Fruit::Banana, 2);
        assert_eq!(c.get(Fruit::Banana), 3);
        assert_eq!(c.get(Fruit::Apple), 0);
        assert_eq!(c.total(), 3);
        let v: Vec<_> = c.iter().collect();
        assert_eq!(v, [("apple", 0), ("banana", 3)]);
        assert_eq!(Fruit::Banana.name(), "banana");
        assert_eq!(<Fruit as Counted>::ALL.len(), 2);
    }
}
