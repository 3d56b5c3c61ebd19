#pragma once

#include <string>

namespace avow::store {

// Return the version of the libgit2 library linked at run time, e.g. "1.5.1".
std::string libgit2_version();

} // namespace avow::store
