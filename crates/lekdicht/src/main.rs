//! The `lekdicht` command.

fn main() {}
