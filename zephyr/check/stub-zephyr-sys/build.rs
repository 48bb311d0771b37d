// Dependency stub: a build script, so that cargo compiles the build-dependencies as for the
// real crate (whose build script uses them).
fn main() {}
