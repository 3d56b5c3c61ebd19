#pragma once

// The static site's assets (archive/site/: style sheet, scripts, the vendored @noble/ed25519), compiled into the
// library by cmake/embed-assets.cmake so `avow site` needs no file at run time. Private to the façade.

#include <span>
#include <string_view>

namespace avow::detail {

struct SiteAsset {
  std::string_view path; // relative to archive/site/: "verify.js", "vendor/noble-ed25519.js"
  std::string_view data; // the file's bytes
};

// Return every asset, in the order CMakeLists.txt lists them.
std::span<const SiteAsset> site_assets();

} // namespace avow::detail
