#pragma once

// The HTML form of `avow audit`: one self-contained page to read on screen, print, or attach to a case file.

#include <archive/audit.hpp>
#include <archive/text/html.hpp>

#include <string>
#include <string_view>

namespace avow::tool {

// HTML escaping is the library's (archive/text/html.hpp), shared with the static site.
using text::html_escape;

// Render `r` as one self-contained HTML5 page (UTF-8, inline CSS, no script, no external resource, and a
// Content-Security-Policy that forbids loading any): summary, verification result, counts per publisher, archivist,
// language and month (each with a bar), key events, most-revised sources, checkpoint and timestamps. Every value is
// escaped; cells with text from the archive carry dir="auto" so right-to-left text reads right-to-left inside them
// while the page stays lang="en" dir="ltr". The output depends only on `r`.
std::string render_audit_html(const AuditReport& r);

// What the report's check covered, in words (text and HTML forms): "verify --quick" for the whole archive, else the
// entries and commits added since the commit verified earlier on this machine, e.g. "check of entries 40..41 and the
// 2 commits since commit 1a2b3c4d5e6f (verified on this machine; audit --full checks everything)".
std::string audit_check_scope(const AuditReport& r);

} // namespace avow::tool
