//! Filled in by the access-matrix tests.
