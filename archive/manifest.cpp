#include <archive/manifest.hpp>

#include <archive/json/jcs.hpp>
#include <archive/text/date.hpp>
#include <archive/util/file.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

#include <stdio.h>

namespace avow {
namespace fs = std::filesystem;

namespace {

// The members a manifest line gives meaning to; every other name goes to meta.
const std::set<std::string, std::less<>> k_members = {"text",  "path", "source", "publisher", "published", "tz",
                                                      "title", "lang", "encoding", "supersedes", "meta", "date_order"};

std::string fold(std::string_view name) {
  std::string out(name);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Return the file a manifest's `path` names: inside `base_dir` once every symlink is resolved, unless allowed.
Expected<fs::path> resolve_path(const std::string& path, const fs::path& base_dir, OutsidePaths outside) {
  const fs::path given(path);
  const fs::path base = base_dir.empty() ? fs::path(".") : base_dir;
  if (outside == OutsidePaths::allow) return given.is_absolute() ? given : base / given;
  const auto refuse = [&] {
    return fail(ErrorCode::invalid_input,
                "path '{}' is outside the manifest's folder (use --allow-paths-outside to allow it)", path);
  };
  if (given.is_absolute() || given.has_root_name()) return refuse();
  std::error_code ec;
  const fs::path root = fs::canonical(base, ec);
  if (ec) return fail(ErrorCode::invalid_input, "cannot resolve the manifest's folder '{}': {}", base.string(), ec.message());
  // weakly_canonical resolves every symlink of the part that exists and normalises the rest (its `..` included).
  const fs::path target = fs::weakly_canonical(root / given, ec);
  if (ec) return fail(ErrorCode::invalid_input, "cannot resolve path '{}': {}", path, ec.message());
  const fs::path rel = target.lexically_relative(root);
  if (rel.empty() || rel == "." || *rel.begin() == "..") return refuse();
  return target;
}

} // namespace

Expected<StatementInput> parse_manifest_line(std::string_view line, const std::string& where,
                                             const std::filesystem::path& base_dir, OutsidePaths outside) {
  const auto bad = [&](std::string_view why) { return fail(ErrorCode::invalid_input, "{}: {}", where, why); };
  auto v = json::parse_strict(line);
  if (!v) return bad(v.error().message);
  if (!v->is_object()) return bad("not a JSON object");
  StatementInput in;
  in.label = where;
  std::optional<std::string> text, path;
  // Members first, then meta: a clash is found whatever order the object's members come in.
  std::map<std::string, std::string> given; // extra member or meta name, ASCII case folded -> as given
  const json::Value* meta = nullptr;
  for (const auto& [key, value] : v->items()) {
    if (key == "meta") {
      meta = &value;
      continue;
    }
    if (!value.is_string()) return bad(fmt::format("member '{}' is not a string", key));
    std::string s = value.get<std::string>();
    if (key == "text") text = std::move(s);
    else if (key == "path") path = std::move(s);
    else if (k_members.contains(key)) {
      if (s.empty()) continue;
      if (key == "source") in.source = std::move(s);
      else if (key == "publisher") in.publisher = std::move(s);
      else if (key == "published") in.published = std::move(s);
      else if (key == "tz") in.tz = std::move(s);
      else if (key == "date_order" && !text::date_order_from_name(s)) return bad("date_order must be dmy, mdy or ymd");
      else if (key == "date_order") in.date_order = std::move(s);
      else if (key == "title") in.title = std::move(s);
      else if (key == "lang") in.lang = std::move(s);
      else if (key == "encoding") in.encoding = std::move(s);
      else if (key == "supersedes") in.supersedes = std::move(s);
    } else {
      const std::string folded = fold(key);
      if (k_members.contains(folded))
        return bad(fmt::format("member '{}' differs from the field '{}' only in case", key, folded));
      if (auto [it, added] = given.emplace(folded, key); !added)
        return bad(fmt::format("members '{}' and '{}' differ only in case", it->second, key));
      if (!s.empty()) in.meta[key] = std::move(s);
    }
  }
  if (meta) {
    if (!meta->is_object()) return bad("meta is not an object");
    for (const auto& [mk, mv] : meta->items()) {
      if (!mv.is_string()) return bad(fmt::format("meta.{} is not a string", mk));
      const std::string folded = fold(mk);
      if (k_members.contains(folded))
        return bad(fmt::format("meta.{} names a manifest field ('{}'): give it as that member", mk, folded));
      if (auto [it, added] = given.emplace(folded, mk); !added) {
        if (it->second == mk) return bad(fmt::format("'{}' is given both as a member and in meta", mk));
        return bad(fmt::format("'{}' and meta.{} differ only in case", it->second, mk));
      }
      in.meta[mk] = mv.get<std::string>();
    }
  }
  if (text && path) return bad("give either text or path, not both");
  if (!text && !path) return bad("missing text or path");
  if (in.source.empty()) return bad("missing source");
  if (text) {
    in.bytes = std::move(*text);
  } else {
    auto p = resolve_path(*path, base_dir, outside);
    if (!p) return bad(p.error().message);
    auto data = read_file(*p, k_max_statement_bytes);
    if (!data) return bad(data.error().message);
    in.bytes = std::move(*data);
  }
  return in;
}

namespace {

// Whether `line` (its '\n' removed) holds a statement: not blank once a trailing '\r' is removed.
bool holds_statement(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line.find_first_not_of(" \t") != std::string_view::npos;
}

} // namespace

Expected<std::vector<StatementInput>> parse_manifest(std::string_view content, std::string_view name,
                                                      const std::filesystem::path& base_dir, OutsidePaths outside) {
  std::vector<StatementInput> out;
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < content.size()) {
    auto eol = content.find('\n', pos);
    if (eol == std::string_view::npos) eol = content.size();
    std::string_view line = content.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!holds_statement(line)) continue;
    if (line.back() == '\r') line.remove_suffix(1);
    auto in = parse_manifest_line(line, fmt::format("{}:{}", name, line_no), base_dir, outside);
    if (!in) return std::unexpected(in.error());
    out.push_back(std::move(*in));
  }
  if (out.empty()) return fail(ErrorCode::invalid_input, "{}: the manifest holds no statement", name);
  return out;
}

// ---------------------------------------------------------------------------------------------

ManifestReader::ManifestReader(std::string name, std::filesystem::path base_dir, OutsidePaths outside)
    : m_name(std::move(name)), m_base_dir(std::move(base_dir)), m_outside(outside) {}

ManifestReader::~ManifestReader() {
  if (m_file) std::fclose(m_file);
  std::free(m_line);
}

Expected<std::unique_ptr<ManifestReader>> ManifestReader::open(const std::filesystem::path& file, OutsidePaths outside) {
  std::unique_ptr<ManifestReader> r(new ManifestReader(file.string(), file.parent_path(), outside));
  std::error_code ec;
  const bool regular = fs::is_regular_file(file, ec);
  if (regular) {
    const auto size = fs::file_size(file, ec);
    if (!ec && size > k_max_manifest_bytes)
      return fail(ErrorCode::invalid_input, "cannot read '{}': {} bytes is over the limit of {} bytes", file.string(),
                  size, k_max_manifest_bytes);
    r->m_file = std::fopen(file.c_str(), "rbe");
    if (!r->m_file) {
      const int e = errno;
      if (e == ENOENT) return fail(ErrorCode::not_found, "cannot read '{}': no such file", file.string());
      return fail(ErrorCode::io, "cannot read '{}': {}", file.string(), std::strerror(e));
    }
  } else {
    // A pipe (`--batch <(...)`) cannot be read twice: it is read whole, as before, and then a line at a time.
    auto content = read_file(file, k_max_manifest_bytes);
    if (!content) return std::unexpected(content.error());
    r->m_content = std::move(*content);
    r->m_file = fmemopen(r->m_content.data(), r->m_content.size(), "r");
    if (!r->m_content.empty() && !r->m_file)
      return fail(ErrorCode::io, "cannot read '{}': {}", file.string(), std::strerror(errno));
  }
  // First pass: the number of statements, for progress, and the refusal of a manifest that holds none.
  for (;;) {
    auto line = r->read_line();
    if (!line) return std::unexpected(line.error());
    if (!*line) break;
    if (holds_statement(**line)) ++r->m_count;
  }
  if (r->m_count == 0) return fail(ErrorCode::invalid_input, "{}: the manifest holds no statement", r->m_name);
  if (r->m_file && std::fseek(r->m_file, 0, SEEK_SET) != 0)
    return fail(ErrorCode::io, "cannot read '{}': {}", r->m_name, std::strerror(errno));
  r->m_line_no = 0;
  r->m_bytes = 0;
  return r;
}

Expected<std::optional<std::string_view>> ManifestReader::read_line() {
  if (!m_file) return std::optional<std::string_view>{};
  errno = 0;
  const ssize_t n = ::getline(&m_line, &m_capacity, m_file);
  if (n < 0) {
    if (std::ferror(m_file)) return fail(ErrorCode::io, "cannot read '{}': {}", m_name, std::strerror(errno));
    return std::optional<std::string_view>{};
  }
  ++m_line_no;
  m_bytes += static_cast<std::uint64_t>(n);
  if (m_bytes > k_max_manifest_bytes) // it grew since open()
    return fail(ErrorCode::invalid_input, "cannot read '{}': over the limit of {} bytes", m_name, k_max_manifest_bytes);
  std::string_view line(m_line, static_cast<std::size_t>(n));
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  return std::optional<std::string_view>{line};
}

Expected<std::optional<StatementInput>> ManifestReader::next() {
  for (;;) {
    auto line = read_line();
    if (!line) return std::unexpected(line.error());
    if (!*line) return std::optional<StatementInput>{};
    std::string_view text = **line;
    if (!holds_statement(text)) continue;
    if (text.back() == '\r') text.remove_suffix(1);
    auto in = parse_manifest_line(text, fmt::format("{}:{}", m_name, m_line_no), m_base_dir, m_outside);
    if (!in) return std::unexpected(in.error());
    return std::optional<StatementInput>{std::move(*in)};
  }
}

} // namespace avow
