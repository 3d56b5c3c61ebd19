#include "cli.hpp"

#include <archive/manifest.hpp>
#include <archive/util/file.hpp>

#include <cstdio>
#include <iostream>
#include <iterator>

namespace avow::tool {
namespace {

struct Opts {
  std::vector<std::string> files;
  std::string batch;
  std::string source, publisher, published, tz, title, lang, supersedes, encoding;
  std::vector<std::string> meta;
  bool strict_dates = false;
  bool recapture = false;
  double lock_timeout = 10;
};

std::optional<std::string> opt(const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); }

Expected<std::vector<StatementInput>> inputs_from_files(const Opts& o) {
  if (o.source.empty()) return fail(ErrorCode::invalid_input, "--source is required (the URI the statement was taken from)");
  std::map<std::string, std::string> meta;
  for (const auto& kv : o.meta) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return fail(ErrorCode::invalid_input, "--meta '{}' is not KEY=VALUE", kv);
    meta[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<StatementInput> inputs;
  bool stdin_used = false;
  for (const auto& f : o.files) {
    StatementInput in;
    in.label = f;
    if (f == "-") {
      if (stdin_used) return fail(ErrorCode::invalid_input, "'-' (standard input) given more than once");
      stdin_used = true;
      auto data = read_stdin(k_max_statement_bytes);
      if (!data) return std::unexpected(data.error());
      in.bytes = std::move(*data);
    } else {
      auto data = read_file(f, k_max_statement_bytes);
      if (!data) return std::unexpected(data.error());
      in.bytes = std::move(*data);
    }
    in.encoding = opt(o.encoding);
    in.source = o.source;
    in.publisher = opt(o.publisher);
    in.title = opt(o.title);
    in.lang = opt(o.lang);
    in.published = opt(o.published);
    in.tz = opt(o.tz);
    in.supersedes = opt(o.supersedes);
    in.meta = meta;
    inputs.push_back(std::move(in));
  }
  return inputs;
}

} // namespace

void add_archive(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("archive", "Canonicalize, record, sign and append statements in one commit.");
  cmd->footer("Examples:\n"
              "  avow archive press.txt --source https://example.org/pr/1 --publisher 'Example Org' \\\n"
              "       --published 'Friday, 29 March 2019 18:36' --tz Europe/Istanbul --title 'Statement'\n"
              "  cat speech.txt | avow archive - --source https://example.org/speech\n"
              "  avow archive --batch manifest.jsonl\n"
              "Manifest (--batch): one JSON object per line, all archived in one commit, e.g.\n"
              "  {\"path\": \"pr-1.txt\", \"source\": \"https://example.org/pr/1\", \"publisher\": \"Example Org\",\n"
              "   \"published\": \"29 March 2019 18:36\", \"tz\": \"Europe/Istanbul\", \"lang\": \"en\"}\n"
              "Members: text or path (the statement; a path is relative to the manifest's folder), source,\n"
              "publisher, published, tz, title, lang, encoding, supersedes, meta (an object of strings),\n"
              "date_order. Any other string member goes to meta.");
  cmd->fallthrough();
  auto o = std::make_shared<Opts>();
  cmd->add_option("files", o->files, "Statement files; '-' reads standard input.");
  cmd->add_option("--batch", o->batch, "JSONL manifest: one statement per line, all in one commit.");
  cmd->add_option("--source", o->source, "URI (or IRI) the statement was taken from.");
  cmd->add_option("--publisher", o->publisher, "Who published it.");
  cmd->add_option("--published", o->published, "Publication time as written (kept verbatim).");
  cmd->add_option("--tz", o->tz, "IANA time zone of --published when it has no offset, e.g. Europe/Istanbul.");
  cmd->add_option("--title", o->title, "Title.");
  cmd->add_option("--lang", o->lang, "Language tag of the text, e.g. ar or en.");
  cmd->add_option("--meta", o->meta, "Extra KEY=VALUE metadata (repeatable).");
  cmd->add_option("--supersedes", o->supersedes, "Record id of the previous version of this statement.");
  cmd->add_option("--encoding", o->encoding, "Encoding of the input when not UTF-8, e.g. windows-1256.");
  cmd->add_flag("--strict-dates", o->strict_dates, "Refuse a --published that no parser understands.");
  cmd->add_flag("--recapture", o->recapture,
                "Record the same text from the same source again (a new capture, e.g. to prove it was still online).");
  cmd->add_option("--lock-timeout", o->lock_timeout, "Seconds to wait for another writer (default 10).");
  cmd->callback([&g, o] {
    Expected<std::vector<StatementInput>> inputs = std::vector<StatementInput>{};
    if (!o->batch.empty()) {
      if (!o->files.empty() || !o->source.empty()) {
        g.exit_code = report(Error{ErrorCode::invalid_input, "--batch takes its statements and metadata from the manifest only"});
        return;
      }
      auto content = read_file(o->batch, k_max_manifest_bytes);
      if (!content) {
        g.exit_code = report(content.error());
        return;
      }
      inputs = parse_manifest(*content, o->batch, std::filesystem::path(o->batch).parent_path());
    } else if (o->files.empty()) {
      g.exit_code = report(Error{ErrorCode::invalid_input, "nothing to archive: give files, '-' or --batch"});
      return;
    } else {
      inputs = inputs_from_files(*o);
    }
    if (!inputs) {
      g.exit_code = report(inputs.error());
      return;
    }
    auto archive = open_or_report(g);
    if (!archive) return;
    AppendOptions opts;
    if (!g.key.empty()) opts.key = g.key;
    opts.passphrase = passphrase_source(g);
    opts.strict_dates = o->strict_dates;
    opts.recapture = o->recapture;
    opts.jobs = g.jobs;
    opts.lock_timeout = std::chrono::milliseconds(static_cast<long long>(o->lock_timeout * 1000));
    auto r = archive->append(*inputs, opts);
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    std::size_t warnings = 0;
    for (const auto& rec : r->records)
      for (const auto& w : rec.warnings) {
        ++warnings;
        if (warnings <= 20) warn(g, fmt::format("{}: {}", rec.label, w));
      }
    if (warnings > 20) warn(g, fmt::format("{} more warnings not shown", warnings - 20));
    for (const auto& n : r->notices) note(g, n);
    for (const auto& rec : r->records)
      for (const auto& n : rec.notes) note(g, fmt::format("{}: {}", rec.label, n));
    if (g.json) {
      nlohmann::json j = {{"commit", r->commit},
                          {"tree_size", r->tree_size},
                          {"records", nlohmann::json::array()},
                          {"notices", r->notices}};
      for (const auto& rec : r->records)
        j["records"].push_back(
            {{"id", rec.id}, {"index", rec.index}, {"input", rec.label}, {"warnings", rec.warnings}, {"notes", rec.notes}});
      print_json(j);
      return;
    }
    for (const auto& rec : r->records) std::printf("%s\n", rec.id.c_str());
    if (!g.quiet && r->records.size() > 1)
      std::fprintf(stderr, "avow: archived %zu statements; log size %llu\n", r->records.size(),
                   static_cast<unsigned long long>(r->tree_size));
  });
}

} // namespace avow::tool
