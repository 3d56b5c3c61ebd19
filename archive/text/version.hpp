#pragma once

#include <string>

namespace avow::text {

// Return the version of the ICU library linked at run time and of its Unicode data, e.g. "72.1 (Unicode 15.0)".
std::string icu_version();

} // namespace avow::text
