#pragma once
// Escaping text for HTML, shared by every page avow writes (the audit report, the static site).
#include <string>
#include <string_view>

namespace avow::text {

// Return `s` escaped for HTML text and for double- or single-quoted attribute values: & < > " ' become entities;
// invalid UTF-8, C0 controls other than tab, LF and CR, DEL and C1 controls become U+FFFD. Everything else, bidi
// controls included, is kept (the caller isolates bidi text with dir="auto").
std::string html_escape(std::string_view s);

} // namespace avow::text
