#include <archive/html/dom.hpp>

namespace avow::html::dom {

std::string name(const GumboNode* element) {
  const GumboElement& e = element->v.element;
  std::string out;
  if (e.tag != GUMBO_TAG_UNKNOWN) {
    out = gumbo_normalized_tagname(e.tag);
  } else {
    GumboStringPiece piece = e.original_tag;
    gumbo_tag_from_original_text(&piece);
    out.assign(piece.data == nullptr ? "" : piece.data, piece.length);
  }
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace avow::html::dom
