#include "version.hpp"

#include <git2.h>

#include <fmt/format.h>

namespace avow::store {

std::string libgit2_version() {
  int major = 0, minor = 0, rev = 0;
  if (git_libgit2_version(&major, &minor, &rev) != 0) return "unknown";
  return fmt::format("{}.{}.{}", major, minor, rev);
}

} // namespace avow::store
