#include <archive/html/depth.hpp>

#include <archive/html/dom.hpp>

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace avow::html {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

template <std::size_t N> bool in(std::string_view s, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

constexpr std::array<std::string_view, 19> k_void = {"area",  "base", "br",    "col",    "embed",   "hr",   "img",
                                                     "input", "keygen", "link", "meta",  "param",   "source", "track",
                                                     "wbr",   "basefont", "bgsound", "frame", "image"};
// Raw text and RCDATA elements: their content is text up to their own end tag (outside svg and math).
constexpr std::array<std::string_view, 8> k_raw = {"script", "style",    "xmp",   "iframe",
                                                   "noembed", "noframes", "textarea", "title"};
constexpr std::array<std::string_view, 14> k_formatting = {"a",     "b",      "big", "code",   "em", "font", "i",
                                                           "nobr",  "s",      "small", "strike", "strong", "tt", "u"};
// Start tags that close an open <p> (HTML "in body": "if the stack has a p element in button scope, close it").
constexpr std::array<std::string_view, 35> k_closes_p = {
    "address", "article", "aside",  "blockquote", "center", "details", "dialog", "dir",  "div",     "dl",
    "fieldset", "figcaption", "figure", "footer", "header", "hgroup",  "main",   "menu", "nav",     "ol",
    "p",       "section", "summary", "ul",        "h1",     "h2",      "h3",     "h4",   "h5",      "h6",
    "pre",     "listing", "form",   "xmp",        "plaintext"};
constexpr std::array<std::string_view, 6> k_headings = {"h1", "h2", "h3", "h4", "h5", "h6"};
// Where a search of the stack for an element in scope stops.
constexpr std::array<std::string_view, 15> k_scope = {"applet", "caption", "html",  "table", "td",
                                                      "th",     "marquee", "object", "template", "mi",
                                                      "mo",     "mn",      "ms",     "mtext", "foreignobject"};
// Elements with a marker in the list of active formatting elements.
constexpr std::array<std::string_view, 7> k_markers = {"applet", "caption", "marquee", "object", "template", "td", "th"};
// "Special" elements (HTML's category), less a few that never matter here.
constexpr std::array<std::string_view, 56> k_special = {
    "address", "applet",  "area",     "article", "aside",   "blockquote", "body",   "button",   "caption", "center",
    "col",     "colgroup", "dd",      "details", "dir",     "div",        "dl",     "dt",       "fieldset", "figcaption",
    "figure",  "footer",  "form",     "h1",      "h2",      "h3",         "h4",     "h5",       "h6",      "header",
    "hgroup",  "html",    "iframe",   "li",      "listing", "main",       "marquee", "menu",    "nav",     "object",
    "ol",      "p",       "plaintext", "pre",    "section", "select",     "summary", "table",   "tbody",   "td",
    "template", "tfoot",  "th",       "thead",   "tr",      "ul"};

struct Open {
  std::string name;
  int active = 0; // id of its entry in the list of active formatting elements, 0 for none
};
struct Active {
  int id = 0; // 0 for a marker
  std::string name;
  std::string key; // name and attributes, for the "Noah's Ark" clause
  bool open = true;
};

class Estimator {
public:
  Estimator(std::string_view s, std::size_t limit) : m_s(s), m_limit(limit) {}

  Expected<void> run() {
    while (m_pos < m_s.size()) {
      const std::size_t lt = m_s.find('<', m_pos);
      if (lt == std::string_view::npos) {
        text(m_s.substr(m_pos));
        break;
      }
      text(m_s.substr(m_pos, lt - m_pos));
      m_pos = lt;
      if (!step()) break;
      if (m_too_deep) {
        return fail(ErrorCode::invalid_input,
                    "the page nests elements more than {} levels deep; avow does not parse it", m_limit);
      }
    }
    return {};
  }

private:
  // One markup construct at m_pos ('<'); false at the end of the input.
  bool step() {
    const std::string_view rest = m_s.substr(m_pos);
    if (rest.starts_with("<!--")) {
      const std::size_t a = m_s.find("-->", m_pos + 2);
      const std::size_t b = m_s.find("--!>", m_pos + 2);
      const std::size_t end = std::min(a == std::string_view::npos ? m_s.size() : a + 3,
                                       b == std::string_view::npos ? m_s.size() : b + 4);
      m_pos = end;
      return m_pos < m_s.size();
    }
    if (rest.size() >= 2 && is_alpha(rest[1])) return start_tag();
    if (rest.size() >= 3 && rest[1] == '/' && is_alpha(rest[2])) return end_tag();
    if (rest.size() >= 2 && (rest[1] == '!' || rest[1] == '?' || rest[1] == '/')) {
      const std::size_t end = m_s.find('>', m_pos + 2);
      if (end == std::string_view::npos) return false;
      m_pos = end + 1;
      return true;
    }
    text("<");
    ++m_pos;
    return true;
  }

  std::string tag_name() {
    std::string name;
    while (m_pos < m_s.size() && !is_ws(m_s[m_pos]) && m_s[m_pos] != '/' && m_s[m_pos] != '>')
      name += lower(m_s[m_pos++]);
    return name;
  }

  // The attributes up to the tag's '>': their text (for the formatting elements' key), the self-closing flag;
  // false at the end of the input (where the tag is dropped, as the tokenizer does).
  bool attributes(std::string& text, bool& self_closing) {
    self_closing = false;
    for (;;) {
      while (m_pos < m_s.size() && is_ws(m_s[m_pos])) ++m_pos;
      if (m_pos >= m_s.size()) return false;
      const char c = m_s[m_pos];
      if (c == '>') {
        ++m_pos;
        return true;
      }
      if (c == '/') {
        ++m_pos;
        if (m_pos < m_s.size() && m_s[m_pos] == '>') {
          self_closing = true;
          ++m_pos;
          return true;
        }
        continue;
      }
      // The name (its first character may be '='), then an optional value.
      text += ' ';
      text += lower(c);
      ++m_pos;
      while (m_pos < m_s.size() && !is_ws(m_s[m_pos]) && m_s[m_pos] != '/' && m_s[m_pos] != '>' && m_s[m_pos] != '=')
        text += lower(m_s[m_pos++]);
      while (m_pos < m_s.size() && is_ws(m_s[m_pos])) ++m_pos;
      if (m_pos >= m_s.size()) return false;
      if (m_s[m_pos] != '=') continue;
      ++m_pos;
      while (m_pos < m_s.size() && is_ws(m_s[m_pos])) ++m_pos;
      if (m_pos >= m_s.size()) return false;
      text += '=';
      const char q = m_s[m_pos];
      if (q == '"' || q == '\'') {
        const std::size_t end = m_s.find(q, m_pos + 1);
        if (end == std::string_view::npos) return false;
        text.append(m_s.substr(m_pos + 1, end - m_pos - 1));
        m_pos = end + 1;
      } else {
        while (m_pos < m_s.size() && !is_ws(m_s[m_pos]) && m_s[m_pos] != '>') text += m_s[m_pos++];
      }
    }
  }

  bool start_tag() {
    ++m_pos;
    const std::string name = tag_name();
    std::string attrs;
    bool self_closing = false;
    if (!attributes(attrs, self_closing)) return false;
    const bool foreign = m_foreign > 0;

    if (!foreign && in(name, k_raw)) {
      // Skip to "</name" followed by whitespace, '/' or '>'.
      for (std::size_t at = m_pos;;) {
        const std::size_t lt = m_s.find("</", at);
        if (lt == std::string_view::npos) return false;
        std::size_t k = lt + 2;
        std::size_t j = 0;
        while (j < name.size() && k < m_s.size() && lower(m_s[k]) == name[j]) ++k, ++j;
        if (j == name.size() && (k >= m_s.size() || is_ws(m_s[k]) || m_s[k] == '/' || m_s[k] == '>')) {
          m_pos = lt;
          return true; // the end tag is read as any other (it closes nothing on our stack)
        }
        at = lt + 2;
      }
    }
    if (!foreign && name == "plaintext") return false; // everything after it is text

    if (name == "html" || name == "body" || name == "head") return true; // merged into the existing ones
    if (in(name, k_void) || (foreign && self_closing)) {
      reconstruct();
      return true;
    }
    if (!foreign) implied_end_tags(name);
    reconstruct();
    if (in(name, k_formatting)) {
      formatting(name, name + attrs);
    } else {
      push(name, 0);
      if (in(name, k_markers)) m_active.push_back(Active{0, name, {}, false});
    }
    if (name == "svg" || name == "math") ++m_foreign;
    return true;
  }

  bool end_tag() {
    m_pos += 2;
    const std::string name = tag_name();
    std::string attrs;
    bool self_closing = false;
    if (!attributes(attrs, self_closing)) return false;
    if (name == "html" || name == "body" || name == "head" || name == "br" || name == "p") {
      if (name == "p") close_in_scope("p", /*button=*/true);
      return true;
    }
    if (in(name, k_formatting)) {
      // The adoption agency, bounded by what it can do to the stack: without a special element above it, the
      // formatting element is popped with everything above it; with one, only it leaves the stack.
      for (std::size_t k = m_active.size(); k-- > 0;) {
        if (m_active[k].id == 0) break;
        if (m_active[k].name != name) continue;
        const int id = m_active[k].id;
        m_active.erase(m_active.begin() + static_cast<std::ptrdiff_t>(k));
        for (std::size_t s = m_stack.size(); s-- > 0;) {
          if (m_stack[s].active != id) continue;
          bool special_above = false;
          for (std::size_t u = s + 1; u < m_stack.size(); ++u)
            if (in(m_stack[u].name, k_special)) special_above = true;
          if (special_above)
            m_stack.erase(m_stack.begin() + static_cast<std::ptrdiff_t>(s));
          else
            pop_to(s);
          break;
        }
        return true;
      }
    }
    close_in_scope(name, /*button=*/false);
    return true;
  }

  void text(std::string_view t) {
    if (std::any_of(t.begin(), t.end(), [](char c) { return !is_ws(c); })) reconstruct();
  }

  void push(const std::string& name, int active) {
    m_stack.push_back(Open{name, active});
    if (m_stack.size() > m_limit) m_too_deep = true;
  }

  // Pop the stack down to (and including) index `s`.
  void pop_to(std::size_t s) {
    while (m_stack.size() > s) {
      const Open& top = m_stack.back();
      if (top.name == "svg" || top.name == "math") m_foreign = m_foreign > 0 ? m_foreign - 1 : 0;
      if (top.active != 0) {
        for (auto& a : m_active)
          if (a.id == top.active) a.open = false;
      }
      if (in(top.name, k_markers)) {
        while (!m_active.empty()) {
          const bool marker = m_active.back().id == 0;
          m_active.pop_back();
          if (marker) break;
        }
      }
      m_stack.pop_back();
    }
  }

  // Index of the nearest `name` on the stack before a scope boundary (a button too for button scope).
  std::optional<std::size_t> in_scope(std::string_view name, bool button) const {
    for (std::size_t s = m_stack.size(); s-- > 0;) {
      if (m_stack[s].name == name) return s;
      if (in(m_stack[s].name, k_scope) || (button && m_stack[s].name == "button")) return std::nullopt;
    }
    return std::nullopt;
  }

  void close_in_scope(std::string_view name, bool button) {
    if (auto s = in_scope(name, button)) pop_to(*s);
  }

  // Close the nearest of `names` unless a special element other than address, div and p comes first.
  template <std::size_t N> void close_item(const std::array<std::string_view, N>& names) {
    for (std::size_t s = m_stack.size(); s-- > 0;) {
      const std::string& n = m_stack[s].name;
      if (in(n, names)) {
        pop_to(s);
        return;
      }
      if (in(n, k_special) && n != "address" && n != "div" && n != "p") return;
    }
  }

  // Before stopping at a table boundary, the nearest of `names`.
  template <std::size_t N> void close_in_table(const std::array<std::string_view, N>& names) {
    for (std::size_t s = m_stack.size(); s-- > 0;) {
      const std::string& n = m_stack[s].name;
      if (in(n, names)) {
        pop_to(s);
        return;
      }
      if (n == "table" || n == "html" || n == "template") return;
    }
  }

  void implied_end_tags(const std::string& name) {
    if (name == "li") close_item(std::array<std::string_view, 1>{"li"});
    if (name == "dd" || name == "dt") close_item(std::array<std::string_view, 2>{"dd", "dt"});
    if (in(name, k_closes_p)) close_in_scope("p", /*button=*/true);
    if (in(name, k_headings) && !m_stack.empty() && in(m_stack.back().name, k_headings)) pop_to(m_stack.size() - 1);
    if ((name == "option" || name == "optgroup") && !m_stack.empty() && m_stack.back().name == "option")
      pop_to(m_stack.size() - 1);
    if (name == "td" || name == "th") close_in_table(std::array<std::string_view, 2>{"td", "th"});
    if (name == "tr") close_in_table(std::array<std::string_view, 1>{"tr"});
    if (name == "tbody" || name == "thead" || name == "tfoot")
      close_in_table(std::array<std::string_view, 3>{"tbody", "thead", "tfoot"});
    if (name == "a") {
      // An <a> inside an open <a> closes it first.
      for (std::size_t k = m_active.size(); k-- > 0;) {
        if (m_active[k].id == 0) break;
        if (m_active[k].name == "a") {
          const int id = m_active[k].id;
          m_active.erase(m_active.begin() + static_cast<std::ptrdiff_t>(k));
          for (std::size_t s = m_stack.size(); s-- > 0;)
            if (m_stack[s].active == id) {
              m_stack.erase(m_stack.begin() + static_cast<std::ptrdiff_t>(s));
              break;
            }
          break;
        }
      }
    }
  }

  void formatting(const std::string& name, const std::string& key) {
    // Noah's Ark: at most three identical entries after the last marker.
    std::size_t same = 0;
    std::size_t earliest = m_active.size();
    for (std::size_t k = m_active.size(); k-- > 0;) {
      if (m_active[k].id == 0) break;
      if (m_active[k].key == key) {
        ++same;
        earliest = k;
      }
    }
    if (same >= 3) m_active.erase(m_active.begin() + static_cast<std::ptrdiff_t>(earliest));
    const int id = ++m_next_id;
    m_active.push_back(Active{id, name, key, true});
    push(name, id);
  }

  // Reopen every active formatting element after the last marker that is no longer open.
  void reconstruct() {
    std::size_t first = m_active.size();
    while (first > 0 && m_active[first - 1].id != 0) --first;
    for (std::size_t k = first; k < m_active.size(); ++k) {
      if (m_active[k].open) continue;
      m_active[k].open = true;
      push(m_active[k].name, m_active[k].id);
      if (m_too_deep) return;
    }
  }

  std::string_view m_s;
  std::size_t m_limit;
  std::size_t m_pos = 0;
  std::vector<Open> m_stack;
  std::vector<Active> m_active;
  int m_next_id = 0;
  int m_foreign = 0;
  bool m_too_deep = false;
};

} // namespace

Expected<void> check_nesting(std::string_view utf8, std::size_t limit) { return Estimator(utf8, limit).run(); }

Expected<void> check_tree_depth(const GumboInternalNode* document, std::size_t limit) {
  std::vector<std::pair<const GumboNode*, std::size_t>> todo{{document, 0}};
  while (!todo.empty()) {
    const auto [n, depth] = todo.back();
    todo.pop_back();
    if (depth > limit + 16)
      return fail(ErrorCode::invalid_input, "the page nests elements more than {} levels deep; avow does not parse it",
                  limit);
    if (!dom::is_element(n) && n->type != GUMBO_NODE_DOCUMENT) continue;
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) todo.emplace_back(dom::child(n, i), depth + 1);
  }
  return {};
}

} // namespace avow::html
