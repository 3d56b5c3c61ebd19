#include "cli.hpp"
#include "progress.hpp"

#include <archive/manifest.hpp>
#include <archive/util/file.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>

namespace avow::tool {
namespace {

struct Opts {
  std::vector<std::string> files;
  std::string batch;
  std::string source, publisher, published, tz, title, lang, supersedes, encoding;
  std::string date_order;
  std::vector<std::string> meta;
  bool strict_dates = false;
  bool recapture = false;
  bool dry_run = false;
  bool force = false;
  bool allow_paths_outside = false;
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
    in.date_order = opt(o.date_order);
    in.supersedes = opt(o.supersedes);
    in.meta = meta;
    inputs.push_back(std::move(in));
  }
  return inputs;
}

// The first `max_lines` lines of `text`, each cut to about 160 bytes at a UTF-8 boundary.
std::string text_preview(std::string_view text, std::size_t max_lines) {
  std::string out;
  std::size_t pos = 0, lines = 0;
  while (pos < text.size() && lines < max_lines) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++lines;
    if (line.size() > 160) {
      std::size_t cut = 160;
      while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
      out += std::string(line.substr(0, cut)) + "\u2026\n";
    } else {
      out += std::string(line) + "\n";
    }
  }
  return out;
}

std::size_t line_count(std::string_view text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

constexpr std::size_t k_preview_lines = 8;
constexpr const char* k_captured_note = "at the real run: the time of that run";

// What --dry-run shows for one record, as JSON: the payload verbatim and what a reader needs to judge it.
nlohmann::json dry_run_json(const AppendedRecord& rec) {
  const DryRunRecord& d = *rec.dry_run;
  nlohmann::json j = {{"id", rec.id},
                      {"index", rec.index},
                      {"input", rec.label},
                      {"payload", d.payload},
                      {"text", {{"sha256", d.text_sha256},
                                {"bytes", rec.text_bytes},
                                {"lines", line_count(d.text)},
                                {"encoding", rec.encoding},
                                {"preview", text_preview(d.text, k_preview_lines)}}},
                      {"warnings", rec.warnings},
                      {"notes", rec.notes}};
  const auto record = nlohmann::json::parse(d.payload, nullptr, /*allow_exceptions=*/false);
  j["record"] = record;
  if (record.is_object()) {
    if (record.contains("published")) j["published"] = record["published"];
    if (record.contains("captured")) j["captured"] = {{"time", record["captured"]}, {"note", k_captured_note}};
    if (record.contains("supersedes")) j["supersedes"] = record["supersedes"];
  }
  return j;
}

void print_dry_run(const AppendedRecord& rec, std::size_t n, std::size_t of) {
  const auto j = dry_run_json(rec);
  const DryRunRecord& d = *rec.dry_run;
  std::string out = fmt::format("record {} of {}: {}\n", n, of, rec.label);
  out += fmt::format("  would be entry {}\n", rec.index);
  out += fmt::format("  record id   {}\n", rec.id);
  out += fmt::format("  text        sha256 {}, {} bytes, {} lines, encoding {}\n", d.text_sha256, rec.text_bytes,
                     line_count(d.text), rec.encoding);
  if (j.contains("published")) {
    const auto& pub = j["published"];
    out += fmt::format("  published   '{}' as written", pub.value("as_written", ""));
    for (const char* k : {"utc", "local", "tz"})
      if (pub.contains(k)) out += fmt::format("; {} {}", k, pub[k].get<std::string>());
    out += "\n";
  } else {
    out += "  published   (not given)\n";
  }
  if (j.contains("captured"))
    out += fmt::format("  captured    {} ({})\n", j["captured"]["time"].get<std::string>(), k_captured_note);
  if (j.contains("supersedes")) out += fmt::format("  supersedes  {}\n", j["supersedes"].get<std::string>());
  for (const auto& w : rec.warnings) out += fmt::format("  warning: {}\n", w);
  for (const auto& n2 : rec.notes) out += fmt::format("  note: {}\n", n2);
  const std::size_t lines = line_count(d.text);
  out += lines > k_preview_lines ? fmt::format("  canonical text (first {} of {} lines):\n", k_preview_lines, lines)
                                 : std::string("  canonical text:\n");
  const std::string preview = text_preview(d.text, k_preview_lines);
  std::size_t pos = 0;
  while (pos < preview.size()) {
    const auto eol = preview.find('\n', pos);
    out += "    | " + preview.substr(pos, eol - pos) + "\n";
    pos = eol + 1;
  }
  out += "  payload (the record exactly as it would be signed, RFC 8785 JSON):\n";
  out += d.payload + "\n";
  std::fputs(for_stdout(out).c_str(), stdout);
}

} // namespace

void add_archive(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("archive", "Canonicalize, record, sign and append statements in one commit.");
  cmd->footer("Examples:\n"
              "  avow archive press.txt --source https://example.org/pr/1 --publisher 'Example Org' \\\n"
              "       --published 'Friday, 29 March 2019 18:36' --tz Europe/Istanbul --title 'Statement'\n"
              "  cat speech.txt | avow archive - --source https://example.org/speech\n"
              "  avow archive note.txt --source urn:x:1 --published '04/03/2019 6:36 pm' --date-order mdy\n"
              "  avow archive --batch manifest.jsonl\n"
              "  avow archive press.txt --source https://example.org/pr/1 --dry-run   # show the record, write nothing\n"
              "Manifest (--batch): one JSON object per line, all archived in one commit, e.g.\n"
              "  {\"path\": \"pr-1.txt\", \"source\": \"https://example.org/pr/1\", \"publisher\": \"Example Org\",\n"
              "   \"published\": \"29 March 2019 18:36\", \"tz\": \"Europe/Istanbul\", \"lang\": \"en\"}\n"
              "Members: text or path (the statement; a path is relative to the manifest's folder), source,\n"
              "publisher, published, tz, title, lang, encoding, supersedes, meta (an object of strings),\n"
              "date_order. Any other string member goes to meta. A path must stay inside the manifest's folder\n"
              "(no absolute path, '..' or symlink out) unless --allow-paths-outside is given.");
  cmd->fallthrough();
  auto o = std::make_shared<Opts>();
  cmd->add_option("files", o->files, "Statement files; '-' reads standard input.");
  cmd->add_option("--batch", o->batch, "JSONL manifest: one statement per line, all in one commit.");
  cmd->add_option("--source", o->source, "URI (or IRI) the statement was taken from.");
  cmd->add_option("--publisher", o->publisher, "Who published it.");
  cmd->add_option("--published", o->published, "Publication time as written (kept verbatim).");
  cmd->add_option("--tz", o->tz, "IANA time zone of --published when it has no offset, e.g. Europe/Istanbul.");
  cmd->add_option("--date-order", o->date_order,
                  "Order of a numeric --published: dmy (29/03/2019), mdy (03/29/2019) or ymd; default from --lang, "
                  "else the locale.")
      ->check(CLI::IsMember({"dmy", "mdy", "ymd"}));
  cmd->add_option("--title", o->title, "Title.");
  cmd->add_option("--lang", o->lang, "Language tag of the text, e.g. ar or en.");
  cmd->add_option("--meta", o->meta, "Extra KEY=VALUE metadata (repeatable).");
  cmd->add_option("--supersedes", o->supersedes, "Record id of the previous version of this statement.");
  cmd->add_option("--encoding", o->encoding, "Encoding of the input when not UTF-8, e.g. windows-1256.");
  cmd->add_flag("--strict-dates", o->strict_dates, "Refuse a --published that no parser understands.");
  cmd->add_flag("--recapture", o->recapture,
                "Record the same text from the same source again (a new capture, e.g. to prove it was still online).");
  cmd->add_flag("--dry-run", o->dry_run,
                "Show each record exactly as it would be signed (payload, text preview, times, revision link) and "
                "write nothing.");
  cmd->add_flag("--force", o->force, "Archive a text decoded with --encoding even when it looks wrongly decoded.");
  cmd->add_flag("--allow-paths-outside", o->allow_paths_outside,
                "Let a --batch manifest's paths name files outside the manifest's folder.");
  cmd->add_option("--lock-timeout", o->lock_timeout, "Seconds to wait for another writer (default 10).");
  cmd->callback([&g, o] {
    Expected<std::vector<StatementInput>> inputs = std::vector<StatementInput>{};
    std::unique_ptr<ManifestReader> manifest; // --batch: read a line at a time as the write goes
    if (!o->batch.empty()) {
      if (!o->files.empty() || !o->source.empty()) {
        g.exit_code = report(Error{ErrorCode::invalid_input, "--batch takes its statements and metadata from the manifest only"});
        return;
      }
      auto reader = ManifestReader::open(o->batch, o->allow_paths_outside ? OutsidePaths::allow : OutsidePaths::refuse);
      if (!reader) {
        g.exit_code = report(reader.error());
        return;
      }
      manifest = std::move(*reader);
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
    opts.dry_run = o->dry_run;
    opts.force = o->force;
    opts.jobs = g.jobs;
    opts.lock_timeout = std::chrono::milliseconds(static_cast<long long>(o->lock_timeout * 1000));
    ProgressBar bar(g);
    if (!o->batch.empty()) opts.progress = bar.callback();
    auto r = manifest ? archive->append(*manifest, opts) : archive->append(*inputs, opts);
    bar.finish();
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
    if (o->dry_run) {
      if (g.json) {
        nlohmann::json j = {{"dry_run", true}, {"tree_size", r->tree_size}, {"records", nlohmann::json::array()},
                            {"notices", r->notices}};
        for (const auto& rec : r->records) j["records"].push_back(dry_run_json(rec));
        print_json(j);
        return;
      }
      std::printf("dry run: nothing was written; %zu record%s would be signed\n", r->records.size(),
                  r->records.size() == 1 ? "" : "s");
      for (std::size_t k = 0; k < r->records.size(); ++k) {
        std::printf("\n");
        print_dry_run(r->records[k], k + 1, r->records.size());
      }
      return;
    }
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
