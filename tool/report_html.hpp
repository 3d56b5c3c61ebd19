#pragma once

// The HTML form of `avow audit`: one self-contained page to read on screen, print, or attach to a case file.

#include <archive/audit.hpp>

#include <string>
#include <string_view>

namespace avow::tool {

// Return `s` escaped for HTML text and attribute values (& < > " '), as valid UTF-8: ill-formed sequences and
// control characters other than tab, LF and CR become U+FFFD.
std::string html_escape(std::string_view s);

// Render `r` as one self-contained HTML5 page (UTF-8, inline CSS, no script, no external resource, and a
// Content-Security-Policy that forbids loading any): summary, verification result, counts per publisher, archivist,
// language and month (each with a bar), key events, most-revised sources, checkpoint and timestamps. Every value is
// escaped; cells with text from the archive carry dir="auto" so right-to-left text reads right-to-left inside them
// while the page stays lang="en" dir="ltr". The output depends only on `r`.
std::string render_audit_html(const AuditReport& r);

} // namespace avow::tool
