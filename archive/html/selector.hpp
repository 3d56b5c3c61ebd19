#pragma once

// The CSS selectors `avow capture --selector` accepts, matched over gumbo's tree: a type (`p`) or `*`, `#id`,
// `.class`, `[attr]`, `[attr=value]` (the value an identifier or a quoted string), compounds of these (`div.lead`),
// the descendant (` `) and child (`>`) combinators, and lists (`a, b`). Anything else (pseudo-classes, `+`, `~`,
// attribute operators other than `=`) does not parse, so a selector never means less than it says.

#include <archive/util/error.hpp>

#include <string>
#include <string_view>
#include <vector>

struct GumboInternalNode;

namespace avow::html {

class Selector {
public:
  // Parse `css`; invalid_input "selector 'X': <why> at offset N" when it is not in the subset above.
  static Expected<Selector> parse(std::string_view css);

  // Return `css` as a one-line message quotes it: control characters as \xNN, cut after 200 bytes.
  static std::string quoted(std::string_view css);

  // True when `element` (a gumbo element node) matches one of the list's selectors.
  bool matches(const GumboInternalNode* element) const;

  struct Simple {
    enum class Kind { type, id, cls, has_attr, attr_equals } kind;
    std::string name;  // type (lowercase), id, class, or attribute name (lowercase)
    std::string value; // for attr_equals
  };
  struct Compound {
    std::vector<Simple> parts; // all must match; empty means `*`
    bool child_of_previous = false; // `>` between the previous compound and this one
  };
  using Complex = std::vector<Compound>;

private:
  std::vector<Complex> m_list;
};

} // namespace avow::html
