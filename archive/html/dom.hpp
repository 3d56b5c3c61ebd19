#pragma once

// Reading gumbo's tree: element names, attributes and children. Private to archive/html (its .cpp files only).

#include <gumbo.h>

#include <optional>
#include <string>
#include <string_view>

namespace avow::html::dom {

inline bool is_element(const GumboNode* n) {
  return n != nullptr && (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE);
}

inline const GumboVector& children(const GumboNode* n) {
  return n->type == GUMBO_NODE_DOCUMENT ? n->v.document.children : n->v.element.children;
}

inline const GumboNode* child(const GumboNode* n, unsigned i) {
  return static_cast<const GumboNode*>(children(n).data[i]);
}

// Return the element's lowercase local name ("div", "my-widget", "foreignobject").
std::string name(const GumboNode* element);

// Return the value of the attribute `attr` (a lowercase name), or nullopt.
inline std::optional<std::string_view> attribute(const GumboNode* element, const char* attr) {
  const GumboAttribute* a = gumbo_get_attribute(&element->v.element.attributes, attr);
  if (a == nullptr) return std::nullopt;
  return std::string_view(a->value);
}

// Return the nearest ancestor that is an element, or nullptr.
inline const GumboNode* parent_element(const GumboNode* n) {
  const GumboNode* p = n->parent;
  return is_element(p) ? p : nullptr;
}

} // namespace avow::html::dom
