//! Dense indices into the generator's own tables (persons, vehicles, employees, units, cases).
//!
//! They exist so that a person index can never be used where an employee index is expected. They
//! are internal: the published world speaks only in the contract's opaque identifiers.

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub(crate) struct $name(u32);

        impl $name {
            /// # Panics
            /// When `i` does not fit in 32 bits: the generator never builds tables that large.
            pub(crate) fn new(i: usize) -> Self {
                // INVARIANT: every table the generator builds holds fewer than 2^32 rows.
                Self(u32::try_from(i).expect("table index fits in u32"))
            }

            pub(crate) fn ix(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index_type!(
    /// A row of the person table.
    PersonIx
);
index_type!(
    /// A row of the vehicle table.
    VehIx
);
index_type!(
    /// A row of the employee table.
    EmpIx
);
index_type!(
    /// A row of the unit table.
    UnitIx
);
index_type!(
    /// A row of the case book.
    CaseIx
);
