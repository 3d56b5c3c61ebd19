// avow log, check, history, audit, reindex: questions answered from the derived index.

#include "cli.hpp"
#include "progress.hpp"
#include "output.hpp"
#include "report_html.hpp"

#include <archive/util/file.hpp>

namespace avow::tool {
namespace {

struct FilterOpts {
  std::string source, publisher, archivist, lang, kind, grep, since, until;
  bool captured = false;
  std::uint64_t limit = 0;
  bool oldest_first = false;
  std::string format = "table";
};

void add_filter_options(CLI::App* cmd, FilterOpts& o, bool with_limit) {
  cmd->add_option("--source", o.source,
                  "Only entries from this source URI (exact: a trailing slash, #fragment or port makes another source).");
  cmd->add_option("--publisher", o.publisher, "Only this publisher (exact).");
  cmd->add_option("--archivist", o.archivist,
                  "Only entries signed by this key: its id or a unique prefix of at least 8 hex digits.");
  cmd->add_option("--lang", o.lang, "Only this language tag, any case; 'en' also matches en-GB, en-US.");
  cmd->add_option("--kind", o.kind, "Only this kind: statement, key.add, key.revoke.");
  cmd->add_option("--grep", o.grep, "Only texts containing all these words (full-text search).");
  cmd->add_option("--since", o.since, "From this time on (RFC 3339 or YYYY-MM-DD), on the published time by default.");
  cmd->add_option("--until", o.until, "Up to this time (a date includes its whole day).");
  cmd->add_flag("--captured", o.captured, "Apply --since/--until to the captured time instead of the published time.");
  if (with_limit) {
    cmd->add_option("--limit", o.limit, "At most this many entries.");
    cmd->add_flag("--oldest-first", o.oldest_first, "Oldest first (default: newest first).");
  }
}

std::optional<std::string> opt(const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); }

index::Filter to_filter(const FilterOpts& o) {
  index::Filter f;
  f.source = opt(o.source);
  f.publisher = opt(o.publisher);
  f.archivist = opt(o.archivist);
  f.lang = opt(o.lang);
  f.kind = opt(o.kind);
  f.grep = opt(o.grep);
  f.since = opt(o.since);
  f.until = opt(o.until);
  f.time_field = o.captured ? index::TimeField::captured : index::TimeField::published;
  f.limit = o.limit;
  f.oldest_first = o.oldest_first;
  return f;
}

// Check what the index cannot: --since after --until (compared as written, which orders RFC 3339 and dates alike).
std::optional<Error> check_range(const FilterOpts& o) {
  if (!o.since.empty() && !o.until.empty() && o.since.substr(0, 10) > o.until.substr(0, 10))
    return Error{ErrorCode::invalid_input, fmt::format("--since {} is after --until {}", o.since, o.until)};
  if (!o.kind.empty() && o.kind != "statement" && o.kind != "key.add" && o.kind != "key.revoke")
    return Error{ErrorCode::invalid_input, fmt::format("unknown --kind '{}' (statement, key.add, key.revoke)", o.kind)};
  return std::nullopt;
}

nlohmann::json row_json(const index::Row& r) {
  nlohmann::json j = {{"index", r.index}, {"id", r.id}, {"kind", r.kind}, {"captured", r.captured},
                      {"archivist", r.archivist}};
  const auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  put("source", r.source);
  put("publisher", r.publisher);
  put("title", r.title);
  put("lang", r.lang);
  put("published", r.published_as_written);
  put("published_utc", r.published_utc);
  put("published_local", r.published_local);
  put("published_tz", r.published_tz);
  put("published_calendar", r.published_calendar);
  put("text_sha256", r.text_sha256);
  if (r.text_bytes) j["text_bytes"] = r.text_bytes;
  if (!r.original_sha256.empty())
    j["original"] = {{"sha256", r.original_sha256}, {"bytes", r.original_bytes}, {"encoding", r.original_encoding}};
  put("supersedes", r.supersedes);
  if (auto meta = nlohmann::json::parse(r.meta_json, nullptr, false); !r.meta_json.empty() && meta.is_object())
    j["meta"] = std::move(meta);
  put("key_id", r.key_id);
  put("role", r.role);
  put("reason", r.reason);
  return j;
}

std::string published_of(const index::Row& r) {
  if (!r.published_utc.empty()) return r.published_utc;
  if (!r.published_local.empty()) return r.published_local;
  return r.published_as_written;
}

Table rows_table(const std::vector<index::Row>& rows) {
  Table t;
  t.headers = {"index", "id", "published", "captured", "publisher", "source", "title"};
  t.align = {Align::right};
  for (const auto& r : rows) {
    if (r.kind != "statement") {
      t.rows.push_back({std::to_string(r.index), r.id.substr(0, 12), "", r.captured, r.kind,
                        "key " + r.key_id.substr(0, 16), r.role});
      continue;
    }
    t.rows.push_back({std::to_string(r.index), r.id.substr(0, 12), published_of(r), r.captured, r.publisher, r.source,
                      r.title});
  }
  return t;
}

// Every field of the record, one column each (README "CSV columns"); meta as its JCS object. Empty: not in the record.
const std::vector<std::string> k_csv_headers = {
    "id", "index", "kind", "captured", "archivist", "source", "publisher", "title", "lang",
    "published.as_written", "published.utc", "published.local", "published.tz", "published.calendar",
    "text.sha256", "text.bytes", "original.sha256", "original.bytes", "original.encoding", "supersedes", "meta", "key.id", "key.role",
    "key.reason"};

std::vector<std::string> csv_cells(const index::Row& r) {
  const auto number = [](std::uint64_t n) { return n == 0 ? std::string() : std::to_string(n); };
  return {r.id, std::to_string(r.index), r.kind, r.captured, r.archivist, r.source, r.publisher, r.title,
          r.lang, r.published_as_written, r.published_utc, r.published_local, r.published_tz, r.published_calendar,
          r.text_sha256, number(r.text_bytes), r.original_sha256, number(r.original_bytes),
          r.original_encoding, r.supersedes, r.meta_json, r.key_id, r.role, r.reason};
}

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Notices may quote sources and other archived or typed strings: one line each, neutralised for the terminal.
void print_notices(const Globals& g, const std::vector<std::string>& notices) {
  for (const auto& n : notices) note(g, terminal_field(n));
}

bool valid_format(Globals& g, const std::string& f, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (f == a) return true;
  std::string list;
  for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  g.exit_code = report(Error{ErrorCode::invalid_input, fmt::format("unknown --format '{}' (want {})", f, list)});
  return false;
}

} // namespace

void add_query(CLI::App& app, Globals& g) {
  // avow log
  auto* log = app.add_subcommand("log", "List entries in log order, newest first, with filters.");
  log->footer("Examples:\n  avow log --publisher Reuters --since 1987-03-01 --format csv\n"
              "  avow log --grep \"ceasefire\" --limit 20\n  avow log --source https://example.org/pr/1 --oldest-first");
  log->fallthrough();
  auto lo = std::make_shared<FilterOpts>();
  add_filter_options(log, *lo, true);
  log->add_option("--format", lo->format, "table (default), json or csv.");
  log->callback([&g, lo] {
    if (!valid_format(g, g.json ? "json" : lo->format, {"table", "json", "csv"})) return;
    if (auto e = check_range(*lo)) {
      g.exit_code = report(*e);
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    std::vector<std::string> notices;
    if (g.json || lo->format == "json" || lo->format == "csv") {
      // Streamed, row by row (a whole log of millions of entries never sits in memory), in the very bytes the whole
      // document would have: the JSON array of print_json, the CSV of render_csv.
      const bool json = g.json || lo->format == "json";
      bool started = false;
      const auto start = [&] {
        if (started) return;
        started = true;
        print(json ? std::string("[") : render_csv(Table{k_csv_headers, {}, {}}));
      };
      auto n = archive->log_each(to_filter(*lo), notices, [&](const index::Row& r) {
        if (json) {
          print(started ? std::string(",") : std::string("["));
          started = true;
          print(row_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
          return;
        }
        start();
        Table t;
        t.rows.push_back(csv_cells(r));
        print(render_csv(t));
      });
      print_notices(g, notices);
      if (!n) {
        g.exit_code = report(n.error());
        if (!started) return;
      } else {
        start();
      }
      if (json) print("]\n");
      return;
    }
    auto rows = archive->log(to_filter(*lo), notices);
    print_notices(g, notices);
    if (!rows) {
      g.exit_code = report(rows.error());
      return;
    }
    {
      print(render_table(rows_table(*rows), output_width()));
    }
  });

  // avow check
  auto* check = app.add_subcommand("check", "Is this text in the archive? Exact and canonical matches, else the closest version.");
  check->footer("Example: avow check copy.txt --source https://example.org/pr/1\n"
                "Exit 0: found (byte-identical or canonically identical); 1: not found (closest version and diff shown).");
  check->fallthrough();
  auto file = std::make_shared<std::string>();
  auto source = std::make_shared<std::string>();
  check->add_option("file", *file, "The text to look for ('-' for standard input).")->required();
  check->add_option("--source", *source, "Compare with the versions of this source when there is no match.");
  auto check_encoding = std::make_shared<std::string>();
  check->add_option("--encoding", *check_encoding, "Encoding of the file when not UTF-8, e.g. windows-1256 (as archive).");
  check->callback([&g, file, source, check_encoding] {
    Expected<std::string> bytes = std::string{};
    if (*file == "-") {
      bytes = read_stdin(k_max_statement_bytes);
    } else {
      bytes = read_file(*file, k_max_statement_bytes);
    }
    if (!bytes) {
      g.exit_code = report(bytes.error());
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    std::vector<std::string> notices;
    auto r = archive->check(*bytes, opt(*source), notices, opt(*check_encoding));
    print_notices(g, notices);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = r->matches.empty() ? exit_code::problems : exit_code::ok;
    if (g.json) {
      nlohmann::json j = {{"found", !r->matches.empty()}, {"matches", nlohmann::json::array()}};
      for (const auto& m : r->matches) {
        auto e = row_json(m.row);
        e["match"] = m.byte_identical ? "byte-identical" : "canonical";
        j["matches"].push_back(e);
      }
      if (r->closest) {
        j["closest"] = row_json(*r->closest);
        j["similarity"] = r->similarity;
        j["diff"] = text::render_word_diff(r->diff);
      }
      print_json(j);
      return;
    }
    for (const auto& m : r->matches)
      std::printf("%s match: entry %llu, record %s, source %s, captured %s\n",
                  m.byte_identical ? "byte-identical" : "canonical", static_cast<unsigned long long>(m.row.index),
                  m.row.id.c_str(), m.row.source.c_str(), m.row.captured.c_str());
    if (!r->matches.empty()) return;
    std::printf("no match\n");
    if (r->closest && source->empty()) {
      std::printf("closest text in the archive: entry %llu, record %s, source %s, captured %s (%.0f%% alike)\n",
                  static_cast<unsigned long long>(r->closest->index), r->closest->id.c_str(),
                  terminal_field(r->closest->source).c_str(), r->closest->captured.c_str(), r->similarity * 100);
      std::printf("word diff from that text to the given text ([-removed-] {+added+}):\n%s",
                  for_stdout(text::render_word_diff(r->diff)).c_str());
    } else if (r->closest) {
      std::printf("closest version of %s: entry %llu, record %s, captured %s (%.0f%% alike)\n", source->c_str(),
                  static_cast<unsigned long long>(r->closest->index), r->closest->id.c_str(),
                  r->closest->captured.c_str(), r->similarity * 100);
      std::printf("word diff from that version to the given text ([-removed-] {+added+}):\n%s",
                  for_stdout(text::render_word_diff(r->diff)).c_str());
    } else if (!source->empty()) {
      std::printf("the archive has no version of %s\n", source->c_str());
    }
  });

  // avow history
  auto* history = app.add_subcommand("history", "Every captured version of one source, with word diffs between them.");
  history->footer("Example: avow history --source https://example.org/pr/1");
  history->fallthrough();
  auto hsource = std::make_shared<std::string>();
  history->add_option("--source", *hsource, "The source URI.")->required();
  auto htext = std::make_shared<std::string>();
  auto hencoding = std::make_shared<std::string>();
  history->add_option("--text", *htext, "A local copy ('-' for standard input): say which version it is, or the closest.");
  history->add_option("--encoding", *hencoding, "Encoding of the --text file when not UTF-8, e.g. windows-1256.")
      ->needs("--text");
  history->callback([&g, hsource, htext, hencoding] {
    auto archive = open_or_report(g);
    if (!archive) return;
    std::vector<std::string> notices;
    auto versions = archive->history(*hsource, notices);
    print_notices(g, notices);
    if (!versions) {
      g.exit_code = report(versions.error());
      return;
    }
    if (versions->empty()) {
      report(Error{ErrorCode::not_found, fmt::format("no statement from source '{}'", *hsource)});
      g.exit_code = exit_code::problems; // the archive answered "none"
      return;
    }
    // --text: which of these versions a local copy is (check's matches among them), else the closest one.
    std::optional<nlohmann::json> given;
    std::string given_line;
    if (!htext->empty()) {
      auto bytes = *htext == "-" ? read_stdin(k_max_statement_bytes) : read_file(*htext, k_max_statement_bytes);
      if (!bytes) {
        g.exit_code = report(bytes.error());
        return;
      }
      std::vector<std::string> check_notices;
      auto c = archive->check(*bytes, *hsource, check_notices, opt(*hencoding));
      print_notices(g, check_notices);
      if (!c) {
        g.exit_code = report(c.error());
        return;
      }
      const auto version_of = [&](const std::string& id) -> std::size_t {
        for (std::size_t k = 0; k < versions->size(); ++k)
          if ((*versions)[k].row.id == id) return k + 1;
        return 0;
      };
      given = nlohmann::json{{"file", *htext}, {"versions", nlohmann::json::array()}};
      for (const auto& m : c->matches)
        if (const std::size_t k = version_of(m.row.id); k != 0) {
          const char* how = m.byte_identical ? "byte-identical" : "canonical";
          (*given)["versions"].push_back({{"version", k}, {"record", m.row.id}, {"match", how}});
          given_line += fmt::format("given text {}: version {} (record {}, {} match)\n", *htext, k, m.row.id, how);
        }
      if (given_line.empty()) {
        given_line = fmt::format("given text {}: matches no version of {}", *htext, *hsource);
        if (c->closest)
          if (const std::size_t k = version_of(c->closest->id); k != 0) {
            (*given)["closest"] = {{"version", k}, {"record", c->closest->id}, {"similarity", c->similarity}};
            given_line += fmt::format("; closest is version {} (record {}, {:.0f}% alike)", k, c->closest->id,
                                      c->similarity * 100);
          }
        given_line += "\n";
      }
    }
    if (g.json) {
      nlohmann::json j = {{"source", *hsource}, {"versions", nlohmann::json::array()}};
      if (given) j["given"] = *given;
      for (std::size_t k = 0; k < versions->size(); ++k) {
        auto e = row_json((*versions)[k].row);
        e["version"] = k + 1;
        if (k > 0) e["same_as_previous"] = (*versions)[k].same_as_previous;
        if (k > 0 && !(*versions)[k].same_as_previous) e["diff"] = text::render_word_diff((*versions)[k].diff);
        j["versions"].push_back(e);
      }
      print_json(j);
      return;
    }
    std::printf("%zu version%s of %s\n", versions->size(), versions->size() == 1 ? "" : "s", hsource->c_str());
    for (std::size_t k = 0; k < versions->size(); ++k) {
      const auto& v = (*versions)[k];
      std::printf("\nversion %zu: entry %llu, record %s\n  captured  %s\n  published %s\n", k + 1,
                  static_cast<unsigned long long>(v.row.index), v.row.id.c_str(), v.row.captured.c_str(),
                  v.row.published_as_written.empty() ? "(not given)" : v.row.published_as_written.c_str());
      if (!v.row.supersedes.empty()) std::printf("  supersedes %s\n", v.row.supersedes.c_str());
      if (k > 0 && v.same_as_previous)
        std::printf("  no change (recapture): the same text as version %zu\n", k);
      else if (k > 0)
        std::printf("  changes from version %zu ([-removed-] {+added+}):\n%s", k,
                    for_stdout(text::render_word_diff(v.diff)).c_str());
    }
    if (given) std::printf("\n%s", for_stdout(given_line).c_str());
  });

  // avow audit
  auto* audit = app.add_subcommand("audit", "A report over the archive or a filter: counts, keys, checkpoint, problems.");
  audit->footer("Examples:\n  avow audit\n  avow audit --publisher Reuters --format html > audit.html");
  audit->fallthrough();
  auto ao = std::make_shared<FilterOpts>();
  add_filter_options(audit, *ao, false);
  audit->add_option("--format", ao->format, "text (default), json or html.");
  ao->format = "text";
  auto whole = std::make_shared<bool>(false);
  audit->add_flag("--full", *whole,
                  "Check the whole archive (verify --quick), not only what was added since the last commit avow "
                  "verified without problems on this machine.");
  audit->callback([&g, ao, whole] {
    if (!valid_format(g, g.json ? "json" : ao->format, {"text", "table", "json", "html"})) return;
    if (auto e = check_range(*ao)) {
      g.exit_code = report(*e);
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    std::vector<std::string> notices;
    ProgressBar bar(g); // the whole check (--full, or no earlier clean check here) runs past two seconds at scale
    auto r = archive->audit(to_filter(*ao), notices, *whole, bar.callback());
    bar.finish();
    print_notices(g, notices);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = r->problems.empty() ? exit_code::ok : exit_code::problems;
    if (ao->format == "html") {
      print(render_audit_html(*r));
      return;
    }
    const auto counts_json = [](const AuditReport::Counts& c) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& [k, n] : c) a.push_back({{"key", k}, {"count", n}});
      return a;
    };
    if (g.json || ao->format == "json") {
      nlohmann::json j = {{"origin", r->origin}, {"generated", r->generated}, {"filter", r->filter},
                          {"tree_size", r->tree_size}, {"root", r->root_hex}, {"checkpoint", r->checkpoint},
                          {"entries", r->entries}, {"statements", r->statements}, {"texts", r->texts},
                          {"publishers", counts_json(r->by_publisher)}, {"archivists", counts_json(r->by_archivist)},
                          {"languages", counts_json(r->by_lang)}, {"months", counts_json(r->by_month)},
                          {"key_events", nlohmann::json::array()}, {"most_revised", nlohmann::json::array()},
                          {"timestamps", nlohmann::json::array()}, {"problems", nlohmann::json::array()}};
      j["check"] = r->checked_since.empty()
                       ? nlohmann::json{{"scope", "whole"}, {"since_commit", nullptr}, {"from_entry", 0}, {"commits", nullptr}}
                       : nlohmann::json{{"scope", "since"}, {"since_commit", r->checked_since},
                                        {"from_entry", r->checked_from}, {"commits", r->checked_commits}};
      for (const auto& t : r->timestamps)
        j["timestamps"].push_back({{"path", t.path}, {"tree_size", t.tree_size}, {"existed_by", t.gen_time}, {"tsa", t.tsa}});
      for (const auto& k : r->key_events)
        j["key_events"].push_back({{"index", k.index}, {"kind", k.kind}, {"key_id", k.key_id}, {"role", k.role},
                                   {"captured", k.captured}});
      for (const auto& s : r->most_revised)
        j["most_revised"].push_back({{"source", s.source}, {"versions", s.versions}, {"first_captured", s.first_captured},
                                     {"last_captured", s.last_captured}});
      for (const auto& p : r->problems) j["problems"].push_back({{"kind", p.kind}, {"message", p.message}});
      print_json(j);
      return;
    }
    const std::size_t width = output_width();
    std::string out = fmt::format("audit of archive '{}' ({})\n", r->origin, r->generated);
    if (!r->filter.empty()) out += fmt::format("filter: {}\n", r->filter);
    out += fmt::format("tree size {}, root {}\n{} entries selected: {} statements, {} distinct texts\n", r->tree_size,
                       r->root_hex, r->entries, r->statements, r->texts);
    const auto section = [&](const char* title, const AuditReport::Counts& c, const char* head) {
      out += fmt::format("\n{}\n", title);
      Table t;
      t.headers = {head, "statements"};
      t.align = {Align::left, Align::right};
      for (const auto& [k, n] : c) t.rows.push_back({k.empty() ? "(none)" : k, std::to_string(n)});
      out += t.rows.empty() ? std::string("  (none)\n") : render_table(t, width);
    };
    section("per publisher", r->by_publisher, "publisher");
    section("per archivist", r->by_archivist, "archivist key");
    section("per language", r->by_lang, "language");
    section("per month (published)", r->by_month, "month");
    out += "\nkey events\n";
    {
      Table t;
      t.headers = {"entry", "event", "key", "role", "captured"};
      for (const auto& k : r->key_events)
        t.rows.push_back({std::to_string(k.index), k.kind, k.key_id.substr(0, 16), k.role, k.captured});
      out += render_table(t, width);
    }
    out += "\nsources with the most versions\n";
    if (r->most_revised.empty()) out += "  (no source has more than one version)\n";
    else {
      Table t;
      t.headers = {"versions", "source", "first captured", "last captured"};
      t.align = {Align::right};
      for (const auto& s : r->most_revised)
        t.rows.push_back({std::to_string(s.versions), s.source, s.first_captured, s.last_captured});
      out += render_table(t, width);
    }
    out += "\ntrusted time-stamps (RFC 3161; not checked against a TSA certificate: avow verify --tsa-cert)\n";
    if (r->timestamps.empty()) out += "  (none)\n";
    else {
      Table t;
      t.headers = {"token", "entries covered", "existed by", "TSA"};
      for (const auto& ts : r->timestamps)
        t.rows.push_back({ts.path, ts.tree_size == 0 ? std::string("none") : fmt::format("0..{}", ts.tree_size - 1),
                          ts.gen_time, ts.tsa});
      out += render_table(t, width);
    }
    out += "\n" + audit_check_scope(*r) + ": ";
    if (r->problems.empty()) out += "no problems found\n";
    else {
      out += fmt::format("{} problem{}\n", r->problems.size(), r->problems.size() == 1 ? "" : "s");
      for (const auto& p : r->problems) out += fmt::format("  {}: {}\n", p.kind, p.message);
    }
    out += "\ncheckpoint\n" + r->checkpoint;
    print(out);
  });

  // avow reindex
  auto* reindex = app.add_subcommand("reindex", "Rebuild the derived index (.git/avow/index.sqlite) from the archive.");
  reindex->footer("Example: avow -C archive reindex");
  reindex->fallthrough();
  reindex->callback([&g] {
    auto archive = open_or_report(g);
    if (!archive) return;
    std::vector<std::string> notices;
    ProgressBar bar(g);
    auto n = archive->reindex(notices, bar.callback());
    bar.finish();
    print_notices(g, notices);
    if (!n) {
      g.exit_code = report(n.error());
      return;
    }
    if (g.json) print_json({{"entries", *n}});
    else if (!g.quiet) std::printf("index rebuilt: %llu entries\n", static_cast<unsigned long long>(*n));
  });
}

} // namespace avow::tool
