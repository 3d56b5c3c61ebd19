#include <archive/util/bytes.hpp>
#include <archive/html/selector.hpp>

#include <archive/html/dom.hpp>

#include <cstdint>

namespace avow::html {

namespace {

constexpr std::size_t k_max_selector = 1024;
constexpr std::size_t k_max_compounds = 32;

bool is_css_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_name_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         u >= 0x80;
}
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
std::string printable(std::string_view s) { return Selector::quoted(s); }

std::uint32_t hex_value(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint32_t>(c - 'a' + 10);
  return static_cast<std::uint32_t>(c - 'A' + 10);
}

std::string to_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

class Parser {
public:
  explicit Parser(std::string_view css) : m_s(css) {}

  Expected<std::vector<Selector::Complex>> list() {
    std::vector<Selector::Complex> out;
    for (;;) {
      skip_ws();
      auto complex = complex_selector();
      if (!complex) return std::unexpected(complex.error());
      out.push_back(std::move(*complex));
      skip_ws();
      if (m_pos == m_s.size()) return out;
      if (m_s[m_pos] != ',') return error(fmt::format("unexpected '{}'", printable(m_s.substr(m_pos, 1))));
      ++m_pos;
    }
  }

private:
  std::unexpected<Error> error(std::string_view why) const {
    return fail(ErrorCode::invalid_input, "selector '{}': {} at offset {}", printable(m_s), why, m_pos);
  }

  void skip_ws() {
    while (m_pos < m_s.size() && is_css_ws(m_s[m_pos])) ++m_pos;
  }

  Expected<Selector::Complex> complex_selector() {
    Selector::Complex out;
    bool child = false;
    for (;;) {
      auto compound = compound_selector();
      if (!compound) return std::unexpected(compound.error());
      compound->child_of_previous = child;
      out.push_back(std::move(*compound));
      if (out.size() > k_max_compounds) return error("too many compound selectors");
      const std::size_t before = m_pos;
      skip_ws();
      if (m_pos == m_s.size() || m_s[m_pos] == ',') return out;
      if (m_s[m_pos] == '>') {
        ++m_pos;
        skip_ws();
        child = true;
      } else if (m_pos > before) {
        child = false; // descendant
      } else {
        return error(fmt::format("unexpected '{}'", printable(m_s.substr(m_pos, 1))));
      }
    }
  }

  Expected<Selector::Compound> compound_selector() {
    Selector::Compound out;
    bool any = false;
    if (m_pos < m_s.size() && m_s[m_pos] == '*') {
      ++m_pos;
      any = true;
    } else if (m_pos < m_s.size() && (is_name_char(m_s[m_pos]) || m_s[m_pos] == '\\')) {
      auto name = ident();
      if (!name) return std::unexpected(name.error());
      out.parts.push_back({Selector::Simple::Kind::type, to_lower(*name), {}});
      any = true;
    }
    for (;;) {
      if (m_pos >= m_s.size()) break;
      const char c = m_s[m_pos];
      if (c == '#' || c == '.') {
        ++m_pos;
        auto name = ident();
        if (!name) return std::unexpected(name.error());
        out.parts.push_back({c == '#' ? Selector::Simple::Kind::id : Selector::Simple::Kind::cls, *name, {}});
      } else if (c == '[') {
        ++m_pos;
        skip_ws();
        auto name = ident();
        if (!name) return std::unexpected(name.error());
        skip_ws();
        if (m_pos < m_s.size() && m_s[m_pos] == ']') {
          ++m_pos;
          out.parts.push_back({Selector::Simple::Kind::has_attr, to_lower(*name), {}});
        } else if (m_pos < m_s.size() && m_s[m_pos] == '=') {
          ++m_pos;
          skip_ws();
          auto value = (m_pos < m_s.size() && (m_s[m_pos] == '"' || m_s[m_pos] == '\'')) ? string() : ident();
          if (!value) return std::unexpected(value.error());
          skip_ws();
          if (m_pos >= m_s.size() || m_s[m_pos] != ']') return error("expected ']'");
          ++m_pos;
          out.parts.push_back({Selector::Simple::Kind::attr_equals, to_lower(*name), *value});
        } else if (m_pos < m_s.size()) {
          return error(fmt::format("unsupported attribute operator '{}'", printable(m_s.substr(m_pos, 1))));
        } else {
          return error("expected ']'");
        }
      } else if (c == ':') {
        return error("pseudo-classes are not supported");
      } else {
        break;
      }
      any = true;
    }
    if (!any) {
      if (m_pos >= m_s.size()) return error("expected a selector");
      return error(fmt::format("unexpected '{}'", printable(m_s.substr(m_pos, 1))));
    }
    return out;
  }

  // A CSS identifier (its escapes decoded); the caller checked it is not empty or starts with a name char.
  Expected<std::string> ident() {
    std::string out;
    while (m_pos < m_s.size()) {
      const char c = m_s[m_pos];
      if (c == '\\') {
        auto e = escape();
        if (!e) return std::unexpected(e.error());
        out += *e;
      } else if (is_name_char(c)) {
        out += c;
        ++m_pos;
      } else {
        break;
      }
    }
    if (out.empty()) return error("expected a name");
    return out;
  }

  Expected<std::string> string() {
    const char q = m_s[m_pos++];
    std::string out;
    while (m_pos < m_s.size() && m_s[m_pos] != q) {
      if (m_s[m_pos] == '\\') {
        auto e = escape();
        if (!e) return std::unexpected(e.error());
        out += *e;
      } else {
        out += m_s[m_pos++];
      }
    }
    if (m_pos >= m_s.size()) return error("unterminated string");
    ++m_pos;
    return out;
  }

  // `\` then 1-6 hex digits and one optional space (a code point), or any other character taken literally.
  Expected<std::string> escape() {
    ++m_pos;
    if (m_pos >= m_s.size()) return error("escape at the end");
    std::string out;
    if (is_hex(m_s[m_pos])) {
      std::uint32_t cp = 0;
      for (int k = 0; k < 6 && m_pos < m_s.size() && is_hex(m_s[m_pos]); ++k, ++m_pos)
        cp = cp * 16 + hex_value(m_s[m_pos]);
      if (m_pos < m_s.size() && is_css_ws(m_s[m_pos])) ++m_pos;
      append_utf8(out, cp);
      return out;
    }
    if (m_s[m_pos] == '\n') return error("newline escaped");
    out += m_s[m_pos++];
    return out;
  }

  std::string_view m_s;
  std::size_t m_pos = 0;
};

bool has_class(std::string_view classes, std::string_view want) {
  std::size_t i = 0;
  while (i < classes.size()) {
    while (i < classes.size() && is_css_ws(classes[i])) ++i;
    std::size_t j = i;
    while (j < classes.size() && !is_css_ws(classes[j])) ++j;
    if (j > i && classes.substr(i, j - i) == want) return true;
    i = j;
  }
  return false;
}

bool matches_compound(const GumboNode* e, const Selector::Compound& c) {
  for (const auto& s : c.parts) {
    switch (s.kind) {
    case Selector::Simple::Kind::type:
      if (dom::name(e) != s.name) return false;
      break;
    case Selector::Simple::Kind::id: {
      const auto id = dom::attribute(e, "id");
      if (!id || *id != s.name) return false;
      break;
    }
    case Selector::Simple::Kind::cls: {
      const auto cls = dom::attribute(e, "class");
      if (!cls || !has_class(*cls, s.name)) return false;
      break;
    }
    case Selector::Simple::Kind::has_attr:
      if (!dom::attribute(e, s.name.c_str())) return false;
      break;
    case Selector::Simple::Kind::attr_equals: {
      const auto v = dom::attribute(e, s.name.c_str());
      if (!v || *v != s.value) return false;
      break;
    }
    }
  }
  return true;
}

// Does `e` match compounds [0, last] of `complex`, with compound `last` on `e` itself? Right to left.
bool matches_from(const GumboNode* e, const Selector::Complex& complex, std::size_t last) {
  if (!matches_compound(e, complex[last])) return false;
  if (last == 0) return true;
  if (complex[last].child_of_previous) {
    const GumboNode* p = dom::parent_element(e);
    return p != nullptr && matches_from(p, complex, last - 1);
  }
  for (const GumboNode* p = dom::parent_element(e); p != nullptr; p = dom::parent_element(p))
    if (matches_from(p, complex, last - 1)) return true;
  return false;
}

} // namespace

std::string Selector::quoted(std::string_view css) {
  std::string out;
  for (const char c : css.substr(0, 200)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F)
      out += fmt::format("\\x{:02X}", u);
    else
      out += c;
  }
  if (css.size() > 200) out += "...";
  return out;
}

Expected<Selector> Selector::parse(std::string_view css) {
  if (css.size() > k_max_selector)
    return fail(ErrorCode::invalid_input, "selector is longer than {} characters", k_max_selector);
  if (css.find('\0') != std::string_view::npos) return fail(ErrorCode::invalid_input, "selector has a NUL character");
  auto list = Parser(css).list();
  if (!list) return std::unexpected(list.error());
  Selector out;
  out.m_list = std::move(*list);
  return out;
}

bool Selector::matches(const GumboInternalNode* element) const {
  if (!dom::is_element(element)) return false;
  for (const auto& complex : m_list)
    if (matches_from(element, complex, complex.size() - 1)) return true;
  return false;
}

} // namespace avow::html
