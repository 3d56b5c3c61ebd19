#include <archive/json/jcs.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace avow::json {
namespace {

// Return the length of the well-formed UTF-8 sequence at the start of `p` (RFC 3629 table 3-7), 0 if ill-formed.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  const auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return i < n && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

constexpr char k_hex_digits[] = "0123456789abcdef";

bool write_string(std::string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.push_back('"');
  std::size_t run = 0; // start of the pending literal run
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      if (c < 0x80) {
        ++i;
        continue;
      }
      const std::size_t len = utf8_sequence_length(p + i, n - i);
      if (len == 0) return false;
      i += len;
      continue;
    }
    out.append(s.data() + run, i - run);
    switch (c) {
    case '"': out.append("\\\""); break;
    case '\\': out.append("\\\\"); break;
    case '\b': out.append("\\b"); break;
    case '\t': out.append("\\t"); break;
    case '\n': out.append("\\n"); break;
    case '\f': out.append("\\f"); break;
    case '\r': out.append("\\r"); break;
    default:
      out.append("\\u00");
      out.push_back(k_hex_digits[c >> 4]);
      out.push_back(k_hex_digits[c & 0x0f]);
      break;
    }
    ++i;
    run = i;
  }
  out.append(s.data() + run, n - run);
  out.push_back('"');
  return true;
}

// Append the ES6 Number.prototype.toString form of the finite double `d` (ECMA-262 section 7.1.12.1, RFC 8785
// section 3.2.2.3). std::to_chars gives the shortest round-trip digits; the layout rules are ES6's.
void write_double(std::string& out, double d) {
  if (d == 0) { // +0 and -0
    out.push_back('0');
    return;
  }
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  // "-d.ddde+XX": split into sign, digits and exponent.
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const std::size_t e_pos = sci.find('e');
  char digits[32];
  int k = 0;
  for (std::size_t i = 0; i < e_pos; ++i)
    if (sci[i] != '.') digits[k++] = sci[i];
  int exponent = 0;
  std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exponent);
  const int n = exponent + 1; // decimal point position relative to the digits
  if (k <= n && n <= 21) {
    out.append(digits, static_cast<std::size_t>(k));
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, static_cast<std::size_t>(n));
    out.push_back('.');
    out.append(digits + n, static_cast<std::size_t>(k - n));
  } else if (-6 < n && n <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-n), '0');
    out.append(digits, static_cast<std::size_t>(k));
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits + 1, static_cast<std::size_t>(k - 1));
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    char ebuf[8];
    const auto er = std::to_chars(ebuf, ebuf + sizeof ebuf, n - 1 < 0 ? 1 - n : n - 1);
    out.append(ebuf, er.ptr);
  }
}

constexpr std::uint64_t k_max_exact = std::uint64_t{1} << 53;

template <class Int> void write_integer(std::string& out, Int v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Append the UTF-16 code units of valid UTF-8 `s` to `out`.
void to_utf16(std::u16string& out, std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = p[i];
    char32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if (c < 0xe0) {
      cp = (char32_t(c & 0x1f) << 6) | (p[i + 1] & 0x3f);
      i += 2;
    } else if (c < 0xf0) {
      cp = (char32_t(c & 0x0f) << 12) | (char32_t(p[i + 1] & 0x3f) << 6) | (p[i + 2] & 0x3f);
      i += 3;
    } else {
      cp = (char32_t(c & 0x07) << 18) | (char32_t(p[i + 1] & 0x3f) << 12) | (char32_t(p[i + 2] & 0x3f) << 6) |
           (p[i + 3] & 0x3f);
      i += 4;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
}

class Writer {
public:
  explicit Writer(std::string& out) : m_out(out) {}

  bool write(const Value& v, std::size_t depth) {
    switch (v.type()) {
    case Value::value_t::null: m_out.append("null"); return true;
    case Value::value_t::boolean: m_out.append(v.get_ref<const Value::boolean_t&>() ? "true" : "false"); return true;
    case Value::value_t::number_integer: {
      const auto i = v.get_ref<const Value::number_integer_t&>();
      const std::uint64_t mag = i < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
      if (mag <= k_max_exact)
        write_integer(m_out, i);
      else
        write_double(m_out, static_cast<double>(i));
      return true;
    }
    case Value::value_t::number_unsigned: {
      const auto u = v.get_ref<const Value::number_unsigned_t&>();
      if (u <= k_max_exact)
        write_integer(m_out, u);
      else
        write_double(m_out, static_cast<double>(u));
      return true;
    }
    case Value::value_t::number_float: {
      const double d = v.get_ref<const Value::number_float_t&>();
      if (!std::isfinite(d)) return error("number is not finite (NaN and Infinity have no JSON form)");
      write_double(m_out, d);
      return true;
    }
    case Value::value_t::string:
      if (!write_string(m_out, v.get_ref<const Value::string_t&>())) return error("string is not valid UTF-8");
      return true;
    case Value::value_t::array: {
      if (depth >= k_max_depth) return error(fmt::format("nesting deeper than {}", k_max_depth));
      m_out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_ref<const Value::array_t&>()) {
        if (!first) m_out.push_back(',');
        first = false;
        if (!write(item, depth + 1)) return false;
      }
      m_out.push_back(']');
      return true;
    }
    case Value::value_t::object: return write_object(v.get_ref<const Value::object_t&>(), depth);
    case Value::value_t::binary: return error("binary values have no JSON form");
    case Value::value_t::discarded: return error("discarded value has no JSON form");
    }
    return error("unknown value type");
  }

  const std::string& error_message() const { return m_error; }

private:
  bool error(std::string message) {
    m_error = std::move(message);
    return false;
  }

  bool write_object(const Value::object_t& object, std::size_t depth) {
    if (depth >= k_max_depth) return error(fmt::format("nesting deeper than {}", k_max_depth));
    // std::map orders names by UTF-8 bytes, which is code point order. UTF-16 order differs from it only when a
    // supplementary character (UTF-8 lead byte F0..F4) meets one in U+E000..U+FFFF, so sort again only then.
    bool supplementary = false;
    for (const auto& [name, _] : object) {
      if (!is_valid_utf8(name)) return error("member name is not valid UTF-8");
      if (!supplementary)
        supplementary = std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0xf0; });
    }
    m_out.push_back('{');
    if (!supplementary) {
      bool first = true;
      for (const auto& [name, member] : object) {
        if (!first) m_out.push_back(',');
        first = false;
        write_string(m_out, name);
        m_out.push_back(':');
        if (!write(member, depth + 1)) return false;
      }
    } else {
      std::vector<std::pair<std::u16string, const Value::object_t::value_type*>> members;
      members.reserve(object.size());
      for (const auto& entry : object) {
        std::u16string units;
        to_utf16(units, entry.first);
        members.emplace_back(std::move(units), &entry);
      }
      std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      bool first = true;
      for (const auto& [_, entry] : members) {
        if (!first) m_out.push_back(',');
        first = false;
        write_string(m_out, entry->first);
        m_out.push_back(':');
        if (!write(entry->second, depth + 1)) return false;
      }
    }
    m_out.push_back('}');
    return true;
  }

  std::string& m_out;
  std::string m_error;
};

// An input iterator over the text that counts the bytes nlohmann has consumed, so errors found in SAX callbacks
// (which carry no position) can still name a byte offset.
class CountingIterator {
public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator() = default;
  CountingIterator(const char* p, std::size_t* consumed) : m_p(p), m_consumed(consumed) {}
  reference operator*() const { return *m_p; }
  CountingIterator& operator++() {
    ++m_p;
    if (m_consumed != nullptr) ++*m_consumed;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& other) const { return m_p == other.m_p; }

private:
  const char* m_p = nullptr;
  std::size_t* m_consumed = nullptr;
};

// Replace bytes that are not printable ASCII by \xNN, so a message built from hostile input stays one clean line.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out.append("\\x");
      out.push_back(k_hex_digits[c >> 4]);
      out.push_back(k_hex_digits[c & 0x0f]);
    }
  }
  return out;
}

// Builds the Value from SAX events, rejecting duplicate member names, non-finite numbers and deep nesting.
class StrictBuilder : public nlohmann::json_sax<Value> {
public:
  StrictBuilder(std::string_view text, const std::size_t* consumed) : m_text(text), m_consumed(consumed) {}

  bool null() override { return put(Value(nullptr)); }
  bool boolean(bool v) override { return put(Value(v)); }
  bool number_integer(number_integer_t v) override { return put(Value(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(Value(v)); }
  bool number_float(number_float_t v, const string_t& raw) override {
    if (!std::isfinite(v))
      return fail_at(*m_consumed > 0 ? *m_consumed - 1 : 0, fmt::format("number '{}' is out of range", printable(raw)));
    return put(Value(v));
  }
  bool string(string_t& v) override { return put(Value(std::move(v))); }
  bool binary(binary_t&) override { return fail_at(*m_consumed, "binary value"); }
  bool start_object(std::size_t) override { return open(Value::object()); }
  bool key(string_t& name) override {
    auto& object = m_stack.back()->get_ref<Value::object_t&>();
    auto [it, inserted] = object.emplace(std::move(name), nullptr);
    if (!inserted) return fail_at(key_start(), fmt::format("duplicate member name \"{}\"", printable(it->first)));
    m_member = &it->second;
    return true;
  }
  bool end_object() override {
    m_stack.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return open(Value::array()); }
  bool end_array() override {
    m_stack.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    // ex.what(): "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error while parsing ..."
    std::string_view why = ex.what();
    if (const auto column = why.find("column "); column != std::string_view::npos) {
      if (const auto colon = why.find(": ", column); colon != std::string_view::npos) why.remove_prefix(colon + 2);
    } else if (const auto bracket = why.find("] "); bracket != std::string_view::npos) {
      why.remove_prefix(bracket + 2);
    }
    return fail_at(position > 0 ? position - 1 : 0, printable(why));
  }

  Value take() { return std::move(m_root); }
  std::size_t error_offset() const { return m_error_offset; }
  const std::string& error_message() const { return m_error; }

private:
  bool fail_at(std::size_t offset, std::string why) {
    m_error_offset = std::min(offset, m_text.size());
    m_error = std::move(why);
    return false;
  }

  // The key event arrives right after the closing quote of the name: walk back to its unescaped opening quote.
  std::size_t key_start() const {
    std::size_t end = std::min(*m_consumed, m_text.size());
    if (end < 2) return 0;
    for (std::size_t i = end - 1; i-- > 0;) {
      if (m_text[i] != '"') continue;
      std::size_t backslashes = 0;
      while (backslashes < i && m_text[i - 1 - backslashes] == '\\') ++backslashes;
      if (backslashes % 2 == 0) return i;
    }
    return 0;
  }

  Value* place(Value&& v) {
    if (m_stack.empty()) {
      m_root = std::move(v);
      return &m_root;
    }
    Value* top = m_stack.back();
    if (top->is_array()) {
      auto& array = top->get_ref<Value::array_t&>();
      array.push_back(std::move(v));
      return &array.back();
    }
    *m_member = std::move(v);
    return m_member;
  }

  bool put(Value&& v) {
    place(std::move(v));
    return true;
  }

  bool open(Value&& container) {
    if (m_stack.size() >= k_max_depth)
      return fail_at(*m_consumed > 0 ? *m_consumed - 1 : 0, fmt::format("nesting deeper than {}", k_max_depth));
    m_stack.push_back(place(std::move(container)));
    return true;
  }

  std::string_view m_text;
  const std::size_t* m_consumed;
  Value m_root;
  std::vector<Value*> m_stack;
  Value* m_member = nullptr;
  std::size_t m_error_offset = 0;
  std::string m_error;
};

} // namespace

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(p + i, s.size() - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Expected<void> append_string(std::string& out, std::string_view s) {
  if (!write_string(out, s)) return fail(ErrorCode::invalid_input, "string is not valid UTF-8");
  return {};
}

Expected<std::string> canonicalize(const Value& value) {
  std::string out;
  out.reserve(256);
  Writer writer(out);
  if (!writer.write(value, 0)) return fail(ErrorCode::invalid_input, "cannot canonicalize JSON: {}", writer.error_message());
  return out;
}

Expected<Value> parse_strict(std::string_view text) {
  // nlohmann skips a leading UTF-8 BOM; RFC 8259 section 8.1 lets a parser ignore it, a strict one must not.
  if (text.starts_with("\xEF\xBB\xBF"))
    return fail(ErrorCode::invalid_input, "invalid JSON at byte 0: byte order mark is not allowed");
  std::size_t consumed = 0;
  StrictBuilder builder(text, &consumed);
  const CountingIterator first(text.data(), &consumed);
  const CountingIterator last(text.data() + text.size(), nullptr);
  const bool ok = Value::sax_parse(first, last, &builder, nlohmann::json::input_format_t::json, /*strict=*/true,
                                   /*ignore_comments=*/false);
  if (!ok)
    return fail(ErrorCode::invalid_input, "invalid JSON at byte {}: {}", builder.error_offset(), builder.error_message());
  return builder.take();
}

Expected<Value> parse_canonical(std::string_view text) {
  auto value = parse_strict(text);
  if (!value) return value;
  auto canonical = canonicalize(*value);
  if (!canonical) return std::unexpected(canonical.error());
  if (*canonical != text) {
    const auto diff = std::mismatch(text.begin(), text.end(), canonical->begin(), canonical->end());
    return fail(ErrorCode::invalid_input, "JSON is not canonical (RFC 8785): first difference at byte {}",
                static_cast<std::size_t>(diff.first - text.begin()));
  }
  return value;
}

} // namespace avow::json
