#pragma once

// What this build of avow is: its version, the git revision it was built from, and the versions of the libraries
// it runs with (each asked at run time, in the layer that owns the library).

#include <string>
#include <utility>
#include <vector>

namespace avow {

// Return the release version of avow, e.g. "0.1.0".
std::string version();
// Return the git revision the library was built from (`git describe --always --dirty`), or "unknown" when it was
// built outside a git checkout.
std::string git_revision();
// Return the run-time versions of the libraries avow is built on, in a fixed order: OpenSSL, libgit2, ICU, SQLite.
std::vector<std::pair<std::string, std::string>> library_versions();

} // namespace avow
