#include <archive/html/depth.hpp>

#include <archive/html/dom.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace avow::html {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Tag names are interned as small integers with their categories as bits, so the stack scans compare integers.
enum Flag : unsigned {
  f_void = 1U << 0,       // no end tag, never on the stack
  f_raw = 1U << 1,        // raw text or RCDATA: content is text up to its own end tag (outside svg and math)
  f_formatting = 1U << 2, // in the list of active formatting elements
  f_closes_p = 1U << 3,   // its start tag closes an open <p> ("a p element in button scope")
  f_heading = 1U << 4,
  f_scope = 1U << 5,   // where a search of the stack for an element in scope stops
  f_marker = 1U << 6,  // pushes a marker on the list of active formatting elements
  f_special = 1U << 7, // HTML's "special" category
};

struct Known {
  std::string_view name;
  unsigned flags;
};
// The first entries have fixed ids (the k_ constants below).
constexpr Known k_known[] = {
    {"html", f_scope | f_special}, {"body", f_special}, {"head", f_special}, {"br", f_void | f_special},
    {"p", f_closes_p | f_special}, {"li", f_special}, {"dd", f_special}, {"dt", f_special}, {"option", 0},
    {"optgroup", 0}, {"td", f_scope | f_marker | f_special}, {"th", f_scope | f_marker | f_special},
    {"tr", f_special}, {"tbody", f_special}, {"thead", f_special}, {"tfoot", f_special}, {"a", f_formatting},
    {"svg", 0}, {"math", 0}, {"button", f_special}, {"table", f_scope | f_special},
    {"template", f_scope | f_marker | f_special}, {"address", f_closes_p | f_special}, {"div", f_closes_p | f_special},
    {"plaintext", f_closes_p | f_special}, {"caption", f_scope | f_marker | f_special}, {"colgroup", f_special},
    {"select", f_special},
    // the rest
    {"area", f_void | f_special}, {"base", f_void | f_special}, {"col", f_void | f_special},
    {"embed", f_void | f_special}, {"hr", f_void | f_special}, {"img", f_void | f_special},
    {"input", f_void | f_special}, {"keygen", f_void | f_special}, {"link", f_void | f_special},
    {"meta", f_void | f_special}, {"param", f_void | f_special}, {"source", f_void | f_special},
    {"track", f_void | f_special}, {"wbr", f_void | f_special}, {"basefont", f_void | f_special},
    {"bgsound", f_void | f_special}, {"frame", f_void | f_special}, {"image", f_void},
    {"script", f_raw | f_special}, {"style", f_raw | f_special}, {"xmp", f_raw | f_closes_p | f_special},
    {"iframe", f_raw | f_special}, {"noembed", f_raw | f_special}, {"noframes", f_raw | f_special},
    {"textarea", f_raw | f_special}, {"title", f_raw | f_special},
    {"b", f_formatting}, {"big", f_formatting}, {"code", f_formatting}, {"em", f_formatting},
    {"font", f_formatting}, {"i", f_formatting}, {"nobr", f_formatting}, {"s", f_formatting},
    {"small", f_formatting}, {"strike", f_formatting}, {"strong", f_formatting}, {"tt", f_formatting},
    {"u", f_formatting},
    {"article", f_closes_p | f_special}, {"aside", f_closes_p | f_special}, {"blockquote", f_closes_p | f_special},
    {"center", f_closes_p | f_special}, {"details", f_closes_p | f_special}, {"dialog", f_closes_p},
    {"dir", f_closes_p | f_special}, {"dl", f_closes_p | f_special}, {"fieldset", f_closes_p | f_special},
    {"figcaption", f_closes_p | f_special}, {"figure", f_closes_p | f_special}, {"footer", f_closes_p | f_special},
    {"header", f_closes_p | f_special}, {"hgroup", f_closes_p | f_special}, {"main", f_closes_p | f_special},
    {"menu", f_closes_p | f_special}, {"nav", f_closes_p | f_special}, {"ol", f_closes_p | f_special},
    {"section", f_closes_p | f_special}, {"summary", f_closes_p | f_special}, {"ul", f_closes_p | f_special},
    {"h1", f_closes_p | f_heading | f_special}, {"h2", f_closes_p | f_heading | f_special},
    {"h3", f_closes_p | f_heading | f_special}, {"h4", f_closes_p | f_heading | f_special},
    {"h5", f_closes_p | f_heading | f_special}, {"h6", f_closes_p | f_heading | f_special},
    {"pre", f_closes_p | f_special}, {"listing", f_closes_p | f_special}, {"form", f_closes_p | f_special},
    {"applet", f_scope | f_marker | f_special},
    {"marquee", f_scope | f_marker | f_special}, {"object", f_scope | f_marker | f_special},
    {"mi", f_scope}, {"mo", f_scope}, {"mn", f_scope}, {"ms", f_scope}, {"mtext", f_scope},
    {"foreignobject", f_scope},
};
enum : int {
  k_html, k_body, k_head, k_br, k_p, k_li, k_dd, k_dt, k_option, k_optgroup, k_td, k_th, k_tr, k_tbody, k_thead,
  k_tfoot, k_a, k_svg, k_math, k_button, k_table, k_template, k_address, k_div, k_plaintext, k_caption, k_colgroup, k_select
};

class Names {
public:
  Names() {
    for (const Known& k : k_known) {
      if (m_ids.contains(std::string(k.name))) continue;
      m_ids.emplace(k.name, static_cast<int>(m_flags.size()));
      m_flags.push_back(k.flags);
      m_names.emplace_back(k.name);
    }
  }
  int id(const std::string& name) {
    const auto [it, added] = m_ids.emplace(name, static_cast<int>(m_flags.size()));
    if (added) {
      m_flags.push_back(0);
      m_names.push_back(name);
    }
    return it->second;
  }
  bool is(int id, unsigned flag) const { return (m_flags[static_cast<std::size_t>(id)] & flag) != 0; }
  const std::string& name(int id) const { return m_names[static_cast<std::size_t>(id)]; }

private:
  std::unordered_map<std::string, int> m_ids;
  std::vector<unsigned> m_flags;
  std::vector<std::string> m_names;
};

struct Open {
  int tag = 0;
  int active = 0; // id of its entry in the list of active formatting elements, 0 for none
};
struct Active {
  int id = 0; // 0 for a marker
  int tag = 0;
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
      const bool more = step();
      if (m_too_deep) {
        return fail(ErrorCode::invalid_input,
                    "the page nests elements more than {} levels deep; avow does not parse it", m_limit);
      }
      if (!more) break;
    }
    return {};
  }

private:
  // One markup construct at m_pos ('<'); false at the end of the input.
  bool step() {
    const std::string_view rest = m_s.substr(m_pos);
    if (rest.starts_with("<!--")) {
      // A comment ends at the first "-->" or "--!>" (or "<!-->", "<!--->"): never later than the tokenizer's end.
      const std::size_t a = m_s.find("-->", m_pos + 2);
      const std::size_t b = m_s.find("--!>", m_pos + 2);
      m_pos = std::min(a == std::string_view::npos ? m_s.size() : a + 3,
                       b == std::string_view::npos ? m_s.size() : b + 4);
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
    const int tag = m_names.id(name);
    const bool foreign = m_foreign > 0;

    if (!foreign && m_names.is(tag, f_raw)) {
      // Skip to "</name" followed by whitespace, '/' or '>'.
      for (std::size_t at = m_pos;;) {
        const std::size_t lt = m_s.find("</", at);
        if (lt == std::string_view::npos) return false;
        std::size_t k = lt + 2;
        std::size_t j = 0;
        while (j < name.size() && k < m_s.size() && lower(m_s[k]) == name[j]) ++k, ++j;
        if (j == name.size() && (k >= m_s.size() || is_ws(m_s[k]) || m_s[k] == '/' || m_s[k] == '>')) {
          m_pos = lt;
          return true; // the end tag is then read as any other (it closes nothing on our stack)
        }
        at = lt + 2;
      }
    }
    if (!foreign && tag == k_plaintext) return false; // everything after it is text

    if (tag == k_html || tag == k_body || tag == k_head) return true; // merged into the existing ones
    if (m_names.is(tag, f_void) || (foreign && self_closing)) {
      reconstruct();
      return true;
    }
    if (!foreign && is_table_part(tag)) {
      // Outside a table these are ignored; inside one, what they imply (tbody, tr) is opened with them.
      if (m_tables == 0) return true;
      table_part(tag);
      return true;
    }
    if (tag == k_select && m_selects > 0) {
      // A <select> inside a select closes it.
      for (std::size_t s = m_stack.size(); s-- > 0;) {
        if (m_stack[s].tag == k_select) {
          pop_to(s);
          break;
        }
      }
      return true;
    }
    if (!foreign) implied_end_tags(tag);
    reconstruct();
    if (m_names.is(tag, f_formatting)) {
      formatting(tag, name + attrs);
    } else {
      push(tag, 0);
      if (m_names.is(tag, f_marker)) m_active.push_back(Active{0, tag, {}, false});
    }
    if (tag == k_svg || tag == k_math) ++m_foreign;
    return true;
  }

  bool end_tag() {
    m_pos += 2;
    const std::string name = tag_name();
    std::string attrs;
    bool self_closing = false;
    if (!attributes(attrs, self_closing)) return false;
    const int tag = m_names.id(name);
    if (tag == k_html || tag == k_body || tag == k_head || tag == k_br) return true;
    if (m_names.is(tag, f_formatting)) {
      // The adoption agency, bounded by what it can do to the stack: without a special element above it, the
      // formatting element is popped with everything above it; with one, only it leaves the stack.
      for (std::size_t k = m_active.size(); k-- > 0;) {
        if (m_active[k].id == 0) break;
        if (m_active[k].tag != tag) continue;
        const int id = m_active[k].id;
        m_active.erase(m_active.begin() + static_cast<std::ptrdiff_t>(k));
        for (std::size_t s = m_stack.size(); s-- > 0;) {
          if (m_stack[s].active != id) continue;
          bool special_above = false;
          for (std::size_t u = s + 1; u < m_stack.size() && !special_above; ++u)
            special_above = m_names.is(m_stack[u].tag, f_special);
          if (special_above)
            m_stack.erase(m_stack.begin() + static_cast<std::ptrdiff_t>(s));
          else
            pop_to(s);
          break;
        }
        return true;
      }
    }
    close_in_scope(tag, /*button=*/tag == k_p);
    return true;
  }

  void text(std::string_view t) {
    if (std::any_of(t.begin(), t.end(), [](char c) { return !is_ws(c); })) reconstruct();
  }

  void push(int tag, int active) {
    if (tag == k_table) ++m_tables;
    if (tag == k_select) ++m_selects;
    m_stack.push_back(Open{tag, active});
    if (m_stack.size() > m_limit) m_too_deep = true;
  }

  // Pop the stack down to (and including) index `s`.
  void pop_to(std::size_t s) {
    while (m_stack.size() > s) {
      const Open top = m_stack.back();
      m_stack.pop_back();
      if (top.tag == k_svg || top.tag == k_math) m_foreign = m_foreign > 0 ? m_foreign - 1 : 0;
      if (top.tag == k_table) --m_tables;
      if (top.tag == k_select) --m_selects;
      if (top.active != 0) {
        for (auto& a : m_active)
          if (a.id == top.active) a.open = false;
      }
      if (m_names.is(top.tag, f_marker)) {
        while (!m_active.empty()) {
          const bool marker = m_active.back().id == 0;
          m_active.pop_back();
          if (marker) break;
        }
      }
    }
  }

  // Index of the nearest `tag` on the stack before a scope boundary (a button too for button scope).
  std::optional<std::size_t> in_scope(int tag, bool button) const {
    for (std::size_t s = m_stack.size(); s-- > 0;) {
      const int t = m_stack[s].tag;
      if (t == tag) return s;
      if (m_names.is(t, f_scope) || (button && t == k_button)) return std::nullopt;
    }
    return std::nullopt;
  }

  void close_in_scope(int tag, bool button) {
    if (auto s = in_scope(tag, button)) pop_to(*s);
  }

  // Close the nearest `a` or `b` unless a special element other than address, div and p comes first.
  void close_item(int a, int b) {
    for (std::size_t s = m_stack.size(); s-- > 0;) {
      const int t = m_stack[s].tag;
      if (t == a || t == b) {
        pop_to(s);
        return;
      }
      if (m_names.is(t, f_special) && t != k_address && t != k_div && t != k_p) return;
    }
  }

  // The nearest `a`, `b` or `c` before a table boundary.
  void close_in_table(int a, int b, int c) {
    for (std::size_t s = m_stack.size(); s-- > 0;) {
      const int t = m_stack[s].tag;
      if (t == a || t == b || t == c) {
        pop_to(s);
        return;
      }
      if (t == k_table || t == k_html || t == k_template) return;
    }
  }

  bool is_table_part(int tag) const {
    return tag == k_td || tag == k_th || tag == k_tr || tag == k_tbody || tag == k_thead || tag == k_tfoot ||
           tag == k_caption || tag == k_colgroup;
  }

  void table_part(int tag) {
    if (tag == k_td || tag == k_th) {
      close_in_table(k_td, k_th, k_th);
      if (!m_stack.empty() && m_stack.back().tag == k_table) push(k_tbody, 0);
      if (!m_stack.empty() && (m_stack.back().tag == k_tbody || m_stack.back().tag == k_thead ||
                               m_stack.back().tag == k_tfoot))
        push(k_tr, 0);
    } else if (tag == k_tr) {
      close_in_table(k_tr, k_tr, k_tr);
      if (!m_stack.empty() && m_stack.back().tag == k_table) push(k_tbody, 0);
    } else if (tag == k_tbody || tag == k_thead || tag == k_tfoot) {
      close_in_table(k_tbody, k_thead, k_tfoot);
    }
    push(tag, 0);
    if (m_names.is(tag, f_marker)) m_active.push_back(Active{0, tag, {}, false});
  }

  void implied_end_tags(int tag) {
    if (tag == k_li) close_item(k_li, k_li);
    if (tag == k_dd || tag == k_dt) close_item(k_dd, k_dt);
    if (m_names.is(tag, f_closes_p)) close_in_scope(k_p, /*button=*/true);
    if (m_names.is(tag, f_heading) && !m_stack.empty() && m_names.is(m_stack.back().tag, f_heading))
      pop_to(m_stack.size() - 1);
    if ((tag == k_option || tag == k_optgroup) && !m_stack.empty() && m_stack.back().tag == k_option)
      pop_to(m_stack.size() - 1);
    if (tag == k_a) {
      // An <a> inside an open <a> closes it first.
      for (std::size_t k = m_active.size(); k-- > 0;) {
        if (m_active[k].id == 0) break;
        if (m_active[k].tag != k_a) continue;
        const int id = m_active[k].id;
        m_active.erase(m_active.begin() + static_cast<std::ptrdiff_t>(k));
        for (std::size_t s = m_stack.size(); s-- > 0;) {
          if (m_stack[s].active == id) {
            m_stack.erase(m_stack.begin() + static_cast<std::ptrdiff_t>(s));
            break;
          }
        }
        break;
      }
    }
  }

  void formatting(int tag, const std::string& key) {
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
    m_active.push_back(Active{id, tag, key, true});
    push(tag, id);
  }

  // Reopen every active formatting element after the last marker that is no longer open.
  void reconstruct() {
    std::size_t first = m_active.size();
    while (first > 0 && m_active[first - 1].id != 0) --first;
    for (std::size_t k = first; k < m_active.size(); ++k) {
      if (m_active[k].open) continue;
      m_active[k].open = true;
      push(m_active[k].tag, m_active[k].id);
      if (m_too_deep) return;
    }
  }

  std::string_view m_s;
  std::size_t m_limit;
  std::size_t m_pos = 0;
  Names m_names;
  std::vector<Open> m_stack;
  std::vector<Active> m_active;
  int m_next_id = 0;
  int m_foreign = 0;
  int m_tables = 0;  // <table> elements on the stack
  int m_selects = 0; // <select> elements on the stack
  bool m_too_deep = false;
};

} // namespace

Expected<void> check_nesting(std::string_view utf8, std::size_t limit) { return Estimator(utf8, limit).run(); }

Expected<void> check_tree_depth(const GumboInternalNode* document, std::size_t limit) {
  std::vector<std::pair<const GumboNode*, std::size_t>> todo{{document, 0}};
  while (!todo.empty()) {
    const auto [n, depth] = todo.back();
    todo.pop_back();
    if (depth > 2 * limit)
      return fail(ErrorCode::invalid_input, "the page nests elements more than {} levels deep; avow does not parse it",
                  limit);
    if (!dom::is_element(n) && n->type != GUMBO_NODE_DOCUMENT) continue;
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) todo.emplace_back(dom::child(n, i), depth + 1);
  }
  return {};
}

} // namespace avow::html
