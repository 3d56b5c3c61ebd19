#pragma once

// Web pages as `avow capture` reads them: the HTML5 encoding sniffing, the page's metadata, and its main text. The
// only user of gumbo (Debian's libgumbo, an HTML5 parser).

#include <archive/util/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace avow::html {

struct Decoded {
  std::string utf8;     // the page as UTF-8 (BOM removed)
  std::string encoding; // the encoding used, ICU's name for the WHATWG encoding: "UTF-8", "windows-1256", ...
  std::string how;      // "BOM", "Content-Type", "meta" or "default"
};

// Decide the page's encoding as HTML5 says (BOM, then the Content-Type `charset` given here, then a <meta> prescan
// of the first 1024 bytes, then windows-1252) and decode. invalid_input for an unknown charset label
// ("unknown charset 'X' declared by <meta charset>") or bytes that are not valid in the charset decided ("the page is
// not valid X as declared by Content-Type").
Expected<Decoded> decode(std::string_view bytes, std::optional<std::string_view> content_type_charset);

// The `charset` parameter of a Content-Type header value, if any ("text/html; charset=UTF-8" -> "UTF-8").
std::optional<std::string> charset_of(std::string_view content_type);

// A metadata value and where it came from: "json-ld", "opengraph", "title", "html-lang".
struct Found {
  std::string value;
  std::string from;
};
struct Metadata {
  std::optional<Found> title;
  std::optional<Found> published; // as written in the page
  std::optional<Found> publisher;
  std::optional<Found> lang;
};

struct ExtractOptions {
  std::optional<std::string> selector; // a CSS selector naming the main element outright
};
struct Page {
  Metadata metadata;
  std::string text;      // the main text as read: paragraphs separated by one blank line (not yet canonical)
  std::string extractor; // "avow-main-text/1" or "selector"
};

// Parse `utf8` as HTML5 and return its metadata and main text. invalid_input for a selector that does not parse or
// matches nothing, and for a page with no text ("no text could be extracted from the page; name the element with
// --selector").
Expected<Page> extract(std::string_view utf8, const ExtractOptions& options = {});

} // namespace avow::html
