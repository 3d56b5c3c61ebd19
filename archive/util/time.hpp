#pragma once

#include <archive/util/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace avow {

using SysSeconds = std::chrono::sys_seconds;

// Format `t` as RFC 3339 UTC with 'Z' and whole seconds: "2019-03-29T15:36:00Z".
std::string format_rfc3339_utc(SysSeconds t);
// Return the current time truncated to seconds: the writer's notion of now (captured times, the clock check of a
// write). The test-only environment variable AVOW_TEST_NOW (YYYY-MM-DDTHH:MM:SSZ) overrides it.
SysSeconds now_seconds();
// Parse strict "YYYY-MM-DDTHH:MM:SSZ" (the archive-side form); invalid_input otherwise.
Expected<SysSeconds> parse_rfc3339_utc(std::string_view text);

} // namespace avow
