#pragma once

#include <string>

namespace avow::index {

// Return the version of the SQLite library linked at run time, e.g. "3.40.1".
std::string sqlite_version();

} // namespace avow::index
