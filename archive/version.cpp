#include "version.hpp"

#include <archive/crypto/version.hpp>
#include <archive/index/version.hpp>
#include <archive/store/version.hpp>
#include <archive/text/version.hpp>

namespace avow {

namespace build_info {
// Defined in the file cmake/revision.cmake writes at build time (revision.cpp in the build folder).
extern const char* const k_version;
extern const char* const k_revision;
} // namespace build_info

std::string version() { return build_info::k_version; }

std::string git_revision() { return build_info::k_revision; }

std::vector<std::pair<std::string, std::string>> library_versions() {
  return {{"OpenSSL", crypto::openssl_version()},
          {"libgit2", store::libgit2_version()},
          {"ICU", text::icu_version()},
          {"SQLite", index::sqlite_version()}};
}

} // namespace avow
