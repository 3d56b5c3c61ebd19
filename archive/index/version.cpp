#include "version.hpp"

#include <sqlite3.h>

namespace avow::index {

std::string sqlite_version() { return sqlite3_libversion(); }

} // namespace avow::index
