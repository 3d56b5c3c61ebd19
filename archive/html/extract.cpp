// A page's metadata and main text, from gumbo's HTML5 parse tree.
//
// The main text ("avow-main-text/1", what `capture.extractor` names) is chosen by a readability-like scoring, in
// these steps:
//
// 1. Dropped outright, with everything inside them, before anything is scored or rendered:
//    - what is not text a reader reads: head, title, script, style, noscript, template, iframe, object, embed, svg,
//      math, canvas, video, audio, map, picture, img (image alt text is never included), button, input, select,
//      option, datalist, textarea, link, meta, base, frameset, and any element with the `hidden` attribute, an
//      inline style `display: none` / `visibility: hidden`, or a class that hides it (hidden, sr-only,
//      visually-hidden, visuallyhidden, screen-reader-text, d-none, element-invisible, u-hidden);
//    - the page's chrome: nav, aside, footer, menu, dialog; header unless it is inside an <article> (there it holds
//      the headline and dateline); form unless it holds 500 bytes of text or more (ASP.NET pages wrap the whole
//      page in one); elements whose ARIA role is navigation, banner, contentinfo, complementary, search, menu,
//      menubar, toolbar, dialog or alertdialog;
//    - elements whose class or id has a negative hint and no positive hint (html, body, article and main are never
//      dropped by hints). Class and id are cut into words at anything not a letter or digit and at lower-to-upper
//      case changes ("relatedLinks" is "related" "links"), lowercased; a word is a hint when it equals one of the
//      words below or starts with one (so "comments", "sharebar" and "navbar" are hints). Negative: nav, menu,
//      breadcrumb, share, sharing, social, related, sidebar, footer, comment, promo, cookie, newsletter, subscribe,
//      popup (but not words starting with shareholder, commentar or navy), and (whole words only) ad, ads,
//      advert, advertisement, sponsor, sponsored. Positive: article, content, entry, main, post, story, body (so
//      "body-text" and "articleBody").
// 2. Paragraphs are scored: every p, pre and td, and every div or section with no block child, whose text is at
//    least 25 characters long scores 1 + its number of commas (, U+060C U+FF0C U+3001) + one per 100 characters
//    (at most 3). The score is added to its parent, half of it to its grandparent and a sixth of it to its
//    great-grandparent: these ancestors are the candidates. A candidate starts with a score by its tag (div +5;
//    pre, td, blockquote +3; address, ol, ul, dl, dd, dt, li, form -3; h1-h6, th -5) plus 25 for a positive hint
//    in its class, 25 for one in its id, minus 25 for a negative hint in its class and 25 for one in its id.
// 3. Each candidate's score is multiplied by (1 - its link density), the link density being the share of its text
//    inside <a> elements (the text of a link to a fragment of the page, href "#...", counting for 0.3). The highest wins (the first in document order on a tie). No candidate: the body wins.
// 4. The winner is widened, as Readability does: to the nearest ancestor that holds at least three of its rivals
//    (the best five other candidates scoring at least 3/4 of it), if any; then to the first scored ancestor whose
//    score is higher than the last one seen on the way up (stopping at one under a third of it); then, while it is
//    its parent's only element child (dropped elements aside), to that parent. The body is never passed. Then a
//    winner inside an <article> element is replaced by the nearest such <article>: its headline, dateline and
//    every paragraph of it belong to the statement.
// 5. The winner's siblings are joined to it, in document order, when they are candidates scoring at least
//    max(10, a fifth of the winner's score) (a sibling with the winner's class gets a fifth of the winner's score
//    more), or are <p> with more than 80 characters and a link density under 0.25, or <p> of at most 80
//    characters, no links, and a sentence end (. ! ? ۔ ؟ 。) in them.
// 6. Inside what was chosen, a div, section, ul, ol, dl, table or figure (not the winner itself) is left out when
//    it has a negative hint and a link density over 0.2 or fewer than 200 characters, or when its link density is
//    over 0.5 and it has fewer than 10 commas (link lists: related stories, tags). Should that leave no text, the
//    chosen elements are rendered without step 6, and should that leave none, the whole body.
//
// The text is rendered as a browser lays it out, simplified: block elements (p, div, h1-h6, li, blockquote, pre,
// td, ... the HTML block-level elements) are paragraphs, separated by exactly one blank line; inline whitespace runs
// collapse to one space, none at a line's start or end; <br> is a line break (two or more in a row end the
// paragraph); <pre> keeps its text as written (trailing spaces removed); a paragraph of only spaces and no-break
// spaces is left out. Each list item, table cell and heading is its own paragraph.
//
// With `--selector`, the elements the selector matches (the outermost ones, in document order) are rendered the
// same way, with only the first group of step 1 dropped: what the user named is taken as it is.

#include <archive/html/html.hpp>

#include <archive/html/depth.hpp>
#include <archive/html/dom.hpp>
#include <archive/html/selector.hpp>

#include <nlohmann/json.hpp>

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace avow::html {

namespace {

constexpr std::string_view k_no_text = "no text could be extracted from the page; name the element with --selector";

bool is_ascii_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

template <std::size_t N> bool one_of(std::string_view s, const std::array<std::string_view, N>& set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// A metadata value on one line: control characters and line or paragraph separators become spaces, ASCII
// whitespace runs collapse to one space, and the ends are trimmed.
std::string single_line(std::string_view s) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    bool ws = u < 0x20 || u == 0x7F;
    std::size_t skip = 0;
    // U+0085 (C2 85), U+2028 and U+2029 (E2 80 A8/A9) end lines too.
    if (u == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) ws = true, skip = 1;
    if (u == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9))
      ws = true, skip = 2;
    if (ws || s[i] == ' ') {
      space = true;
      i += skip;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += s[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Which elements are dropped

constexpr std::array<std::string_view, 27> k_never_text = {
    "head",  "script", "style", "noscript", "template", "iframe", "object", "embed",    "svg",      "math",
    "canvas", "video", "audio", "map",      "img",      "button", "input",  "select",   "textarea", "option",
    "datalist", "link", "meta", "base",    "frameset", "picture", "title"};
constexpr std::array<std::string_view, 5> k_chrome = {"nav", "aside", "footer", "menu", "dialog"};
constexpr std::array<std::string_view, 10> k_chrome_roles = {"navigation", "banner",  "contentinfo", "complementary",
                                                             "search",     "menu",    "menubar",     "toolbar",
                                                             "dialog",     "alertdialog"};
constexpr std::array<std::string_view, 15> k_negative = {"nav",     "menu",   "breadcrumb", "share",  "sharing",
                                                         "social",  "related", "sidebar",   "footer", "comment",
                                                         "promo",   "cookie", "newsletter", "subscribe", "popup"};
// Words that start with a negative hint but say nothing of the kind.
constexpr std::array<std::string_view, 3> k_not_negative = {"shareholder", "commentar", "navy"};
constexpr std::array<std::string_view, 6> k_negative_words = {"ad",     "ads",     "advert", "advertisement",
                                                              "sponsor", "sponsored"};
constexpr std::array<std::string_view, 7> k_positive = {"article", "content", "entry", "main", "post", "story", "body"};

// The words of a class or id value: cut at anything not an ASCII letter or digit and at a lower-to-upper change.
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string word;
  char prev = 0;
  for (const char c : s) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool alnum = alpha || (c >= '0' && c <= '9');
    if (!alnum || (c >= 'A' && c <= 'Z' && prev >= 'a' && prev <= 'z')) {
      if (!word.empty()) out.push_back(lower(word));
      word.clear();
    }
    if (alnum) word += c;
    prev = c;
  }
  if (!word.empty()) out.push_back(lower(word));
  return out;
}

struct Hints {
  bool positive = false;
  bool negative = false;
};

template <std::size_t N> bool starts_with_one(const std::string& word, const std::array<std::string_view, N>& set) {
  for (const auto h : set)
    if (word.starts_with(h)) return true;
  return false;
}

Hints hints_of(std::string_view value) {
  Hints h;
  for (const auto& w : words(value)) {
    if ((starts_with_one(w, k_negative) && !starts_with_one(w, k_not_negative)) || one_of(w, k_negative_words))
      h.negative = true;
    if (starts_with_one(w, k_positive)) h.positive = true;
  }
  return h;
}

Hints class_hints(const GumboNode* e) { return hints_of(dom::attribute(e, "class").value_or("")); }
Hints id_hints(const GumboNode* e) { return hints_of(dom::attribute(e, "id").value_or("")); }

// Class names that hide an element from sight in the common CSS frameworks (screen-reader-only text included: a
// reader of the page does not see it).
constexpr std::array<std::string_view, 8> k_hiding_classes = {"hidden",   "sr-only",           "visually-hidden",
                                                              "visuallyhidden", "screen-reader-text", "d-none",
                                                              "element-invisible", "u-hidden"};

bool hidden(const GumboNode* e) {
  if (dom::attribute(e, "hidden")) return true;
  if (const auto cls = dom::attribute(e, "class")) {
    std::size_t i = 0;
    while (i < cls->size()) {
      while (i < cls->size() && is_ascii_ws((*cls)[i])) ++i;
      std::size_t j = i;
      while (j < cls->size() && !is_ascii_ws((*cls)[j])) ++j;
      if (j > i && one_of(lower(cls->substr(i, j - i)), k_hiding_classes)) return true;
      i = j;
    }
  }
  const auto style = dom::attribute(e, "style");
  if (!style) return false;
  std::string compact;
  for (const char c : *style)
    if (!is_ascii_ws(c)) compact += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return compact.find("display:none") != std::string::npos || compact.find("visibility:hidden") != std::string::npos;
}

enum class Mode { main_text, selector };

bool inside_article(const GumboNode* e) {
  for (const GumboNode* p = dom::parent_element(e); p != nullptr; p = dom::parent_element(p))
    if (dom::name(p) == "article") return true;
  return false;
}

// Characters of text in `n`, counted up to `limit`.
std::size_t text_length(const GumboNode* n, std::size_t limit) {
  if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA) return std::string_view(n->v.text.text).size();
  if (!dom::is_element(n) || one_of(dom::name(n), k_never_text)) return 0;
  std::size_t total = 0;
  const GumboVector& kids = dom::children(n);
  for (unsigned i = 0; i < kids.length && total < limit; ++i) total += text_length(dom::child(n, i), limit - total);
  return total;
}

// A form is a search box, a newsletter sign-up or a comment form, unless it wraps the page (as ASP.NET pages do).
constexpr std::size_t k_form_wraps_page = 500;

bool dropped(const GumboNode* e, Mode mode) {
  const std::string name = dom::name(e);
  if (one_of(name, k_never_text) || hidden(e)) return true;
  if (e->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) return false; // inside svg/math, already dropped
  if (mode == Mode::selector) return false;
  if (one_of(name, k_chrome)) return true;
  if (name == "form" && text_length(e, k_form_wraps_page) < k_form_wraps_page) return true;
  if (name == "header" && !inside_article(e)) return true;
  if (const auto role = dom::attribute(e, "role"); role && one_of(lower(*role), k_chrome_roles)) return true;
  if (name == "html" || name == "body" || name == "article" || name == "main") return false;
  const Hints c = class_hints(e);
  const Hints i = id_hints(e);
  return (c.negative || i.negative) && !(c.positive || i.positive);
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

constexpr std::array<std::string_view, 47> k_blocks = {
    "address", "article", "aside",  "blockquote", "body",     "caption", "center", "dd",       "details", "dialog",
    "dir",     "div",     "dl",     "dt",         "fieldset", "figcaption", "figure", "footer", "form",    "h1",
    "h2",      "h3",      "h4",     "h5",         "h6",       "header",  "hgroup", "hr",       "html",    "legend",
    "li",      "listing", "main",   "menu",       "nav",      "ol",      "p",      "plaintext", "pre",    "section",
    "summary", "table",   "tbody",  "td",         "tfoot",    "th",      "thead"};
bool is_block(std::string_view name) { return one_of(name, k_blocks) || name == "tr" || name == "ul" || name == "xmp"; }
bool is_preformatted(std::string_view name) {
  return name == "pre" || name == "listing" || name == "xmp" || name == "plaintext";
}

// A paragraph of only ASCII whitespace and no-break spaces says nothing.
bool blank(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_ascii_ws(s[i])) continue;
    if (s.substr(i, 2) == "\xC2\xA0") {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

std::string rtrim_lines(std::string_view s) {
  std::string out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r' || line.back() == '\f'))
      line.remove_suffix(1);
    if (start != 0) out += '\n';
    out += line;
    start = end + 1;
  }
  return out;
}

class Renderer {
public:
  Renderer(Mode mode, const std::unordered_set<const GumboNode*>& skipped) : m_mode(mode), m_skipped(skipped) {}

  void render(const GumboNode* n) {
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
      inline_text(n->v.text.text);
      return;
    }
    if (!dom::is_element(n) && n->type != GUMBO_NODE_DOCUMENT) return; // comments
    if (dom::is_element(n)) {
      if (dropped(n, m_mode) || m_skipped.contains(n)) return;
      const std::string name = dom::name(n);
      if (name == "br") {
        line_break();
        return;
      }
      if (name == "wbr") return;
      if (is_preformatted(name)) {
        end_paragraph();
        std::string raw;
        preformatted(n, raw);
        if (raw.starts_with('\n')) raw.erase(0, 1);
        add_paragraph(rtrim_lines(raw));
        return;
      }
      if (is_block(name)) {
        end_paragraph();
        children(n);
        end_paragraph();
        return;
      }
    }
    children(n);
  }

  std::string finish() {
    end_paragraph();
    std::string out;
    for (const auto& p : m_paragraphs) {
      if (!out.empty()) out += "\n\n";
      out += p;
    }
    if (!out.empty()) out += '\n';
    return out;
  }

private:
  void children(const GumboNode* n) {
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) render(dom::child(n, i));
  }

  void preformatted(const GumboNode* n, std::string& out) {
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
      out += n->v.text.text;
      return;
    }
    if (!dom::is_element(n) || dropped(n, m_mode) || m_skipped.contains(n)) return;
    if (dom::name(n) == "br") {
      out += '\n';
      return;
    }
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) preformatted(dom::child(n, i), out);
  }

  void inline_text(std::string_view s) {
    for (const char c : s) {
      if (is_ascii_ws(c)) {
        m_space = true;
        continue;
      }
      if (m_space && !m_line.empty()) m_line += ' ';
      m_space = false;
      m_line += c;
    }
  }

  void line_break() {
    m_lines.push_back(std::move(m_line));
    m_line.clear();
    m_space = false;
  }

  // The lines gathered so far become paragraphs: an empty line (two <br> in a row) separates two.
  void end_paragraph() {
    if (!m_line.empty()) m_lines.push_back(std::move(m_line));
    m_line.clear();
    m_space = false;
    std::string paragraph;
    for (auto& line : m_lines) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      if (blank(line)) {
        add_paragraph(paragraph);
        paragraph.clear();
        continue;
      }
      if (!paragraph.empty()) paragraph += '\n';
      paragraph += line;
    }
    add_paragraph(paragraph);
    m_lines.clear();
  }

  void add_paragraph(std::string p) {
    // Leading and trailing empty lines of a <pre> go; a blank paragraph is left out.
    while (p.starts_with('\n')) p.erase(0, 1);
    while (p.ends_with('\n')) p.pop_back();
    if (!blank(p)) m_paragraphs.push_back(std::move(p));
  }

  Mode m_mode;
  const std::unordered_set<const GumboNode*>& m_skipped;
  std::vector<std::string> m_paragraphs;
  std::vector<std::string> m_lines;
  std::string m_line;
  bool m_space = false;
};

std::string render(const std::vector<const GumboNode*>& nodes, Mode mode,
                   const std::unordered_set<const GumboNode*>& skipped) {
  Renderer r(mode, skipped);
  for (const GumboNode* n : nodes) r.render(n);
  return r.finish();
}

// ---------------------------------------------------------------------------------------------------------------
// Scoring

struct Stats {
  std::size_t chars = 0;   // characters of text, each whitespace run counted as one
  double link_chars = 0;   // of which inside <a> (a link to a fragment of the page, "#...", counts 0.3)
  std::size_t commas = 0;
};

std::size_t count_commas(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') ++n;
    else if (s.substr(i, 2) == "\xD8\x8C") ++n;     // U+060C ARABIC COMMA
    else if (s.substr(i, 3) == "\xEF\xBC\x8C") ++n; // U+FF0C FULLWIDTH COMMA
    else if (s.substr(i, 3) == "\xE3\x80\x81") ++n; // U+3001 IDEOGRAPHIC COMMA
  }
  return n;
}

std::size_t count_chars(std::string_view s, bool& in_space) {
  std::size_t n = 0;
  for (const char c : s) {
    if (is_ascii_ws(c)) {
      if (!in_space) ++n;
      in_space = true;
      continue;
    }
    in_space = false;
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n; // code points, not bytes
  }
  return n;
}

class Scorer {
public:
  explicit Scorer(const GumboNode* body) : m_body(body) {}

  // Compute every element's text statistics, then score paragraphs and their ancestors.
  void run() {
    stats(m_body, 0.0);
    paragraphs(m_body);
    for (auto& [node, score] : m_scores) {
      const Stats& s = m_stats[node];
      const double density = s.chars == 0 ? 0.0 : s.link_chars / static_cast<double>(s.chars);
      score *= 1.0 - density;
    }
  }

  const GumboNode* winner() const {
    const GumboNode* best = nullptr;
    double best_score = 0;
    for (const GumboNode* n : m_order) {
      const double s = m_scores.at(n);
      if (best == nullptr || s > best_score) {
        best = n;
        best_score = s;
      }
    }
    return best;
  }

  // Step 4: the winner widened to the ancestor its rivals share, or whose score grows, or that holds only it.
  const GumboNode* widen(const GumboNode* top) const {
    if (top == m_body) return top;
    const double top_score = score(top);
    // Rivals: the best five other candidates scoring at least 3/4 of the winner.
    std::vector<const GumboNode*> rivals;
    for (const GumboNode* n : m_order)
      if (n != top && m_scores.at(n) >= 0.75 * top_score) rivals.push_back(n);
    std::stable_sort(rivals.begin(), rivals.end(),
                     [&](const GumboNode* a, const GumboNode* b) { return m_scores.at(a) > m_scores.at(b); });
    if (rivals.size() > 5) rivals.resize(5);
    if (rivals.size() >= 3) {
      for (const GumboNode* a = dom::parent_element(top); a != nullptr && a != m_body; a = dom::parent_element(a)) {
        std::size_t inside = 0;
        for (const GumboNode* r : rivals)
          for (const GumboNode* p = dom::parent_element(r); p != nullptr; p = dom::parent_element(p))
            if (p == a) {
              ++inside;
              break;
            }
        if (inside >= 3) {
          top = a;
          break;
        }
      }
    }
    // Climb while the ancestors' scores grow; stop when they fall under a third.
    double last = score(top);
    for (const GumboNode* a = dom::parent_element(top); a != nullptr && a != m_body; a = dom::parent_element(a)) {
      if (!m_scores.contains(a)) continue;
      const double s = m_scores.at(a);
      if (s < last / 3) break;
      if (s > last) {
        top = a;
        break;
      }
      last = s;
    }
    // An only child stands for its parent.
    for (const GumboNode* a = dom::parent_element(top); a != nullptr && a != m_body; a = dom::parent_element(a)) {
      std::size_t elements = 0;
      const GumboVector& kids = dom::children(a);
      for (unsigned i = 0; i < kids.length; ++i)
        if (dom::is_element(dom::child(a, i)) && !dropped(dom::child(a, i), Mode::main_text)) ++elements;
      if (elements != 1) break;
      top = a;
    }
    return top;
  }

  // The winner and the siblings joined to it (step 5), in document order.
  std::vector<const GumboNode*> with_siblings(const GumboNode* top) const {
    const GumboNode* parent = dom::parent_element(top);
    if (parent == nullptr || top == m_body) return {top};
    const double top_score = score(top);
    const double threshold = std::max(10.0, top_score * 0.2);
    const auto top_class = dom::attribute(top, "class");
    std::vector<const GumboNode*> out;
    const GumboVector& kids = dom::children(parent);
    for (unsigned i = 0; i < kids.length; ++i) {
      const GumboNode* s = dom::child(parent, i);
      if (s == top) {
        out.push_back(s);
        continue;
      }
      if (!dom::is_element(s) || dropped(s, Mode::main_text)) continue;
      if (m_scores.contains(s)) {
        double bonus = 0;
        const auto cls = dom::attribute(s, "class");
        if (top_class && cls && !top_class->empty() && *cls == *top_class) bonus = top_score * 0.2;
        if (m_scores.at(s) + bonus >= threshold) {
          out.push_back(s);
          continue;
        }
      }
      if (dom::name(s) == "p") {
        const Stats& st = stats_of(s);
        const double density = link_density(s);
        if (st.chars > 80 && density < 0.25) out.push_back(s);
        else if (st.chars > 0 && st.chars <= 80 && st.link_chars == 0.0 && has_sentence_end(s)) out.push_back(s);
      }
    }
    return out;
  }

  // Step 6: the containers inside `roots` to leave out.
  std::unordered_set<const GumboNode*> cleaned(const std::vector<const GumboNode*>& roots) const {
    std::unordered_set<const GumboNode*> out;
    for (const GumboNode* r : roots) clean(r, r, out);
    return out;
  }

  double score(const GumboNode* n) const {
    const auto it = m_scores.find(n);
    return it == m_scores.end() ? 0.0 : it->second;
  }

private:
  static constexpr std::array<std::string_view, 7> k_cleanable = {"div", "section", "ul", "ol", "dl", "table",
                                                                   "figure"};

  void clean(const GumboNode* n, const GumboNode* root, std::unordered_set<const GumboNode*>& out) const {
    if (!dom::is_element(n) || dropped(n, Mode::main_text)) return;
    if (n != root && one_of(dom::name(n), k_cleanable)) {
      const Stats& s = stats_of(n);
      const double density = link_density(n);
      const bool negative = class_hints(n).negative || id_hints(n).negative;
      if ((negative && (density > 0.2 || s.chars < 200)) || (density > 0.5 && s.commas < 10)) {
        out.insert(n);
        return;
      }
    }
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) clean(dom::child(n, i), root, out);
  }

  const Stats& stats_of(const GumboNode* n) const {
    static const Stats none;
    const auto it = m_stats.find(n);
    return it == m_stats.end() ? none : it->second;
  }

  double link_density(const GumboNode* n) const {
    const Stats& s = stats_of(n);
    return s.chars == 0 ? 0.0 : s.link_chars / static_cast<double>(s.chars);
  }

  bool has_sentence_end(const GumboNode* n) const {
    std::string text = render({n}, Mode::main_text, m_none);
    for (const std::string_view end : {".", "!", "?", "\xDB\x94", "\xD8\x9F", "\xE3\x80\x82"})
      if (text.find(end) != std::string::npos) return true;
    return false;
  }

  // Post-order: the statistics of every element not dropped.
  // `link` is the weight of text here as link text: 0 outside links.
  Stats stats(const GumboNode* n, double link) {
    Stats out;
    if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA || n->type == GUMBO_NODE_WHITESPACE) {
      bool in_space = false;
      out.chars = count_chars(n->v.text.text, in_space);
      out.commas = count_commas(n->v.text.text);
      out.link_chars = link * static_cast<double>(out.chars);
      return out;
    }
    if (!dom::is_element(n) || dropped(n, Mode::main_text)) return out;
    if (link == 0.0 && dom::name(n) == "a") link = dom::attribute(n, "href").value_or("").starts_with('#') ? 0.3 : 1.0;
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) {
      const Stats s = stats(dom::child(n, i), link);
      out.chars += s.chars;
      out.link_chars += s.link_chars;
      out.commas += s.commas;
    }
    m_stats[n] = out;
    return out;
  }

  static bool has_block_child(const GumboNode* n) {
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) {
      const GumboNode* c = dom::child(n, i);
      if (dom::is_element(c) && is_block(dom::name(c))) return true;
    }
    return false;
  }

  void paragraphs(const GumboNode* n) {
    if (!dom::is_element(n) || dropped(n, Mode::main_text)) return;
    const std::string name = dom::name(n);
    const bool paragraph = name == "p" || name == "pre" || name == "td" ||
                           ((name == "div" || name == "section") && !has_block_child(n));
    if (paragraph) {
      const Stats& s = stats_of(n);
      if (s.chars >= 25) {
        const double points = 1.0 + static_cast<double>(s.commas) + static_cast<double>(std::min<std::size_t>(s.chars / 100, 3));
        const GumboNode* a = dom::parent_element(n);
        for (int level = 0; level < 3 && a != nullptr; ++level, a = dom::parent_element(a)) {
          if (!m_scores.contains(a)) {
            m_scores[a] = initial_score(a);
            m_order.push_back(a);
          }
          m_scores[a] += points / (level == 0 ? 1.0 : level == 1 ? 2.0 : 6.0);
          if (a == m_body) break;
        }
      }
    }
    if (name == "pre") return;
    const GumboVector& kids = dom::children(n);
    for (unsigned i = 0; i < kids.length; ++i) paragraphs(dom::child(n, i));
  }

  static double initial_score(const GumboNode* e) {
    const std::string name = dom::name(e);
    double s = 0;
    if (name == "div") s = 5;
    else if (name == "pre" || name == "td" || name == "blockquote") s = 3;
    else if (one_of(name, std::array<std::string_view, 8>{"address", "ol", "ul", "dl", "dd", "dt", "li", "form"})) s = -3;
    else if (one_of(name, std::array<std::string_view, 7>{"h1", "h2", "h3", "h4", "h5", "h6", "th"})) s = -5;
    const Hints c = class_hints(e);
    const Hints i = id_hints(e);
    s += (c.positive ? 25 : 0) + (i.positive ? 25 : 0) - (c.negative ? 25 : 0) - (i.negative ? 25 : 0);
    return s;
  }

  const GumboNode* m_body;
  std::unordered_map<const GumboNode*, Stats> m_stats;
  std::unordered_map<const GumboNode*, double> m_scores;
  std::vector<const GumboNode*> m_order; // candidates in the order first scored (document order of paragraphs)
  std::unordered_set<const GumboNode*> m_none;
};

// ---------------------------------------------------------------------------------------------------------------
// Metadata

const GumboNode* find_element(const GumboNode* n, std::string_view name) {
  if (dom::is_element(n) && n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML && dom::name(n) == name) return n;
  if (!dom::is_element(n) && n->type != GUMBO_NODE_DOCUMENT) return nullptr;
  const GumboVector& kids = dom::children(n);
  for (unsigned i = 0; i < kids.length; ++i)
    if (const GumboNode* f = find_element(dom::child(n, i), name)) return f;
  return nullptr;
}

void find_all(const GumboNode* n, std::string_view name, std::vector<const GumboNode*>& out) {
  if (dom::is_element(n) && n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML && dom::name(n) == name)
    out.push_back(n);
  if (!dom::is_element(n) && n->type != GUMBO_NODE_DOCUMENT) return;
  const GumboVector& kids = dom::children(n);
  for (unsigned i = 0; i < kids.length; ++i) find_all(dom::child(n, i), name, out);
}

std::string text_content(const GumboNode* n) {
  std::string out;
  const GumboVector& kids = dom::children(n);
  for (unsigned i = 0; i < kids.length; ++i) {
    const GumboNode* c = dom::child(n, i);
    if (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_WHITESPACE || c->type == GUMBO_NODE_CDATA)
      out += c->v.text.text;
  }
  return out;
}

std::optional<Found> found(std::string_view value, std::string_view from) {
  std::string v = single_line(value);
  if (v.empty()) return std::nullopt;
  return Found{std::move(v), std::string(from)};
}

// JSON-LD: the first object in document order whose @type is an article type, looked for at the top level, in
// arrays and in @graph. A publisher given as {"@id": ...} is looked up among the objects with that @id.
constexpr std::array<std::string_view, 14> k_article_types = {
    "NewsArticle",         "Article",          "ReportageNewsArticle", "AnalysisNewsArticle", "OpinionNewsArticle",
    "BackgroundNewsArticle", "ReviewNewsArticle", "AskPublicNewsArticle", "BlogPosting",       "LiveBlogPosting",
    "Report",              "ScholarlyArticle", "TechArticle",          "SatiricalArticle"};

// JSON nested deeper than this is not metadata; refusing it before parsing bounds the parser's work and stack.
constexpr std::size_t k_max_json_depth = 64;

bool json_too_deep(std::string_view s) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > k_max_json_depth) return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

bool is_article_type(const nlohmann::json& type) {
  auto one = [](const nlohmann::json& t) {
    if (!t.is_string()) return false;
    std::string_view s = t.get_ref<const std::string&>();
    if (const auto cut = s.find_last_of("/:#"); cut != std::string_view::npos) s.remove_prefix(cut + 1);
    return one_of(s, k_article_types);
  };
  if (type.is_array()) return std::any_of(type.begin(), type.end(), one);
  return one(type);
}

void json_objects(const nlohmann::json& j, std::vector<const nlohmann::json*>& out) {
  if (j.is_array()) {
    for (const auto& item : j) json_objects(item, out);
  } else if (j.is_object()) {
    out.push_back(&j);
    if (const auto g = j.find("@graph"); g != j.end()) json_objects(*g, out);
  }
}

std::optional<std::string> json_string(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  const nlohmann::json* v = &*it;
  if (v->is_array() && !v->empty()) v = &(*v)[0];
  if (v->is_object()) {
    const auto value = v->find("@value");
    if (value == v->end()) return std::nullopt;
    v = &*value;
  }
  if (!v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::string> publisher_name(const nlohmann::json& article,
                                          const std::vector<const nlohmann::json*>& all) {
  const auto it = article.find("publisher");
  if (it == article.end()) return std::nullopt;
  const nlohmann::json* p = &*it;
  if (p->is_array() && !p->empty()) p = &(*p)[0];
  if (p->is_string()) return p->get<std::string>();
  if (!p->is_object()) return std::nullopt;
  if (auto name = json_string(*p, "name")) return name;
  if (const auto id = p->find("@id"); id != p->end() && id->is_string()) {
    for (const nlohmann::json* o : all) {
      const auto oid = o->find("@id");
      if (o != p && oid != o->end() && *oid == *id)
        if (auto name = json_string(*o, "name")) return name;
    }
  }
  return std::nullopt;
}

void json_ld(const GumboNode* root, Metadata& m) {
  std::vector<const GumboNode*> scripts;
  find_all(root, "script", scripts);
  for (const GumboNode* s : scripts) {
    const auto type = dom::attribute(s, "type");
    if (!type) continue;
    std::string t = lower(*type);
    if (const auto semi = t.find(';'); semi != std::string::npos) t.erase(semi);
    while (!t.empty() && is_ascii_ws(t.back())) t.pop_back();
    while (!t.empty() && is_ascii_ws(t.front())) t.erase(0, 1);
    if (t != "application/ld+json") continue;
    const std::string body = text_content(s);
    if (json_too_deep(body)) continue;
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue; // broken JSON-LD says nothing
    std::vector<const nlohmann::json*> all;
    json_objects(j, all);
    for (const nlohmann::json* o : all) {
      const auto type_it = o->find("@type");
      if (type_it == o->end() || !is_article_type(*type_it)) continue;
      if (!m.title) {
        auto headline = json_string(*o, "headline");
        if (!headline || single_line(*headline).empty()) headline = json_string(*o, "name");
        if (headline) m.title = found(*headline, "json-ld");
      }
      if (!m.published)
        if (auto v = json_string(*o, "datePublished")) m.published = found(*v, "json-ld");
      if (!m.publisher)
        if (auto v = publisher_name(*o, all)) m.publisher = found(*v, "json-ld");
      if (!m.lang)
        if (auto v = json_string(*o, "inLanguage")) m.lang = found(*v, "json-ld");
      return; // the first article object decides what JSON-LD says
    }
  }
}

void open_graph(const GumboNode* root, Metadata& m) {
  std::vector<const GumboNode*> metas;
  find_all(root, "meta", metas);
  auto first = [&](std::string_view property) -> std::optional<Found> {
    for (const GumboNode* e : metas) {
      auto key = dom::attribute(e, "property");
      if (!key) key = dom::attribute(e, "name");
      if (!key || lower(*key) != property) continue;
      if (const auto content = dom::attribute(e, "content"))
        if (auto f = found(*content, "opengraph")) return f;
    }
    return std::nullopt;
  };
  if (!m.title) m.title = first("og:title");
  if (!m.published) m.published = first("article:published_time");
  if (!m.publisher) m.publisher = first("og:site_name");
}

Metadata metadata(const GumboNode* root) {
  Metadata m;
  json_ld(root, m);
  open_graph(root, m);
  if (!m.title)
    if (const GumboNode* t = find_element(root, "title")) m.title = found(text_content(t), "title");
  if (!m.lang)
    if (const GumboNode* html = find_element(root, "html"))
      if (const auto lang = dom::attribute(html, "lang")) m.lang = found(*lang, "html-lang");
  return m;
}

// ---------------------------------------------------------------------------------------------------------------

struct OutputFree {
  void operator()(GumboOutput* o) const noexcept { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};
using OutputPtr = std::unique_ptr<GumboOutput, OutputFree>;

void outermost_matches(const GumboNode* n, const Selector& selector, std::vector<const GumboNode*>& out) {
  if (selector.matches(n)) {
    out.push_back(n);
    return;
  }
  if (!dom::is_element(n) && n->type != GUMBO_NODE_DOCUMENT) return;
  const GumboVector& kids = dom::children(n);
  for (unsigned i = 0; i < kids.length; ++i) outermost_matches(dom::child(n, i), selector, out);
}

} // namespace

Expected<Page> extract(std::string_view utf8, const ExtractOptions& options) {
  std::optional<Selector> selector;
  if (options.selector) {
    auto parsed = Selector::parse(*options.selector);
    if (!parsed) return std::unexpected(parsed.error());
    selector = std::move(*parsed);
  }
  // gumbo's tree builder takes time in proportion to the depth of the element stack for every tag, and avow walks
  // the tree recursively: a page nested deeper than any real one is refused before it is parsed.
  if (auto deep = check_nesting(utf8); !deep) return std::unexpected(deep.error());

  GumboOptions gumbo_options = kGumboDefaultOptions;
  gumbo_options.max_errors = 0; // parse errors are not kept (a hostile page could make millions)
  OutputPtr output{gumbo_parse_with_options(&gumbo_options, utf8.data(), utf8.size())};
  if (!output) return fail(ErrorCode::internal, "the HTML parser returned nothing");
  if (auto deep = check_tree_depth(output->document); !deep) return std::unexpected(deep.error());

  Page page;
  page.metadata = metadata(output->document);

  if (selector) {
    std::vector<const GumboNode*> matched;
    outermost_matches(output->document, *selector, matched);
    if (matched.empty())
      return fail(ErrorCode::invalid_input, "selector '{}' matches no element", Selector::quoted(*options.selector));
    page.text = render(matched, Mode::selector, {});
    page.extractor = "selector";
    if (page.text.empty())
      return fail(ErrorCode::invalid_input, "the elements selector '{}' matches have no text",
                  Selector::quoted(*options.selector));
    return page;
  }

  const GumboNode* body = find_element(output->document, "body");
  if (body == nullptr) body = output->root;
  Scorer scorer(body);
  scorer.run();
  const GumboNode* top = scorer.winner();
  if (top == nullptr) top = body;
  top = scorer.widen(top);
  for (const GumboNode* a = dom::parent_element(top); a != nullptr; a = dom::parent_element(a)) {
    if (dom::name(a) == "article" && a->v.element.tag_namespace == GUMBO_NAMESPACE_HTML) {
      top = a;
      break;
    }
  }
  const std::vector<const GumboNode*> chosen = scorer.with_siblings(top);
  page.text = render(chosen, Mode::main_text, scorer.cleaned(chosen));
  if (page.text.empty()) page.text = render(chosen, Mode::main_text, {});
  if (page.text.empty() && top != body) page.text = render({body}, Mode::main_text, {});
  if (page.text.empty()) return fail(ErrorCode::invalid_input, "{}", k_no_text);
  page.extractor = "avow-main-text/1";
  return page;
}

} // namespace avow::html
