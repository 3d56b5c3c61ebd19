#include "version.hpp"

#include <unicode/uchar.h>
#include <unicode/uversion.h>

namespace avow::text {

std::string icu_version() {
  UVersionInfo icu{}, unicode{};
  char icu_s[U_MAX_VERSION_STRING_LENGTH] = {};
  char unicode_s[U_MAX_VERSION_STRING_LENGTH] = {};
  u_getVersion(icu);
  u_versionToString(icu, icu_s);
  u_getUnicodeVersion(unicode);
  u_versionToString(unicode, unicode_s);
  return std::string(icu_s) + " (Unicode " + unicode_s + ")";
}

} // namespace avow::text
