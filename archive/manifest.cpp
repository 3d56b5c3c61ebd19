#include <archive/manifest.hpp>

#include <archive/json/jcs.hpp>
#include <archive/text/date.hpp>
#include <archive/util/file.hpp>

namespace avow {

Expected<std::vector<StatementInput>> parse_manifest(std::string_view content, std::string_view name,
                                                      const std::filesystem::path& base_dir) {
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
    for (const auto& [key, value] : v->items()) {
      if (key == "meta") {
        if (!value.is_object()) return bad("meta is not an object");
        for (const auto& [mk, mv] : value.items()) {
          if (!mv.is_string()) return bad(fmt::format("meta.{} is not a string", mk));
          in.meta[mk] = mv.get<std::string>();
        }
        continue;
      }
      if (!value.is_string()) return bad(fmt::format("member '{}' is not a string", key));
      std::string s = value.get<std::string>();
      if (key == "text") text = std::move(s);
      else if (key == "path") path = std::move(s);
      else if (s.empty()) continue;
      else if (key == "source") in.source = std::move(s);
      else if (key == "publisher") in.publisher = std::move(s);
      else if (key == "published") in.published = std::move(s);
      else if (key == "tz") in.tz = std::move(s);
      else if (key == "date_order" && !text::date_order_from_name(s)) return bad("date_order must be dmy, mdy or ymd");
      else if (key == "date_order") in.date_order = std::move(s);
      else if (key == "title") in.title = std::move(s);
      else if (key == "lang") in.lang = std::move(s);
      else if (key == "encoding") in.encoding = std::move(s);
      else if (key == "supersedes") in.supersedes = std::move(s);
      else if (in.meta.contains(key)) return bad(fmt::format("'{}' is given both as a member and in meta", key));
      else in.meta[key] = std::move(s);
    }
    if (text && path) return bad("give either text or path, not both");
    if (!text && !path) return bad("missing text or path");
    if (in.source.empty()) return bad("missing source");
    if (text) {
      in.bytes = std::move(*text);
    } else {
      const std::filesystem::path p = std::filesystem::path(*path).is_absolute() ? std::filesystem::path(*path)
                                                                                  : base_dir / *path;
      auto data = read_file(p, k_max_statement_bytes);
      if (!data) return bad(data.error().message);
      in.bytes = std::move(*data);
    }
    out.push_back(std::move(in));
  }
  if (out.empty()) return fail(ErrorCode::invalid_input, "{}: the manifest holds no statement", name);
  return out;
}

} // namespace avow
