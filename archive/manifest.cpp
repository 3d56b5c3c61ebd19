#include <archive/manifest.hpp>

#include <archive/json/jcs.hpp>
#include <archive/text/date.hpp>
#include <archive/util/file.hpp>

#include <set>

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
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = fmt::format("{}:{}", name, line_no);
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
    out.push_back(std::move(in));
  }
  if (out.empty()) return fail(ErrorCode::invalid_input, "{}: the manifest holds no statement", name);
  return out;
}

} // namespace avow
