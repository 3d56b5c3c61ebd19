// avow capture (one URL, or --batch) and avow watch: web pages fetched, kept as WARC and archived (docs/FORMAT.md §21).

#include "cli.hpp"
#include "output.hpp"
#include "progress.hpp"

#include <archive/util/file.hpp>

#include <cstdio>

namespace avow::tool {
namespace {

// What capture and watch fetch with, and how they append.
struct FetchOpts {
  std::vector<std::string> headers;
  std::string cacert;
  std::uint64_t max_bytes = 20 * 1024 * 1024;
  unsigned timeout = 60;
  unsigned connect_timeout = 15;
  bool recapture = false;
  double lock_timeout = 10;
};

struct CaptureOpts {
  std::string url, batch;
  std::string selector, publisher, title, published, tz, lang, text_from;
  std::vector<std::string> meta;
  bool allow_status = false;
  bool dry_run = false;
  bool all_or_nothing = false;
  FetchOpts fetch;
};

struct WatchOpts {
  std::vector<std::string> sources;
  std::string publisher;
  bool record_gone = false;
  FetchOpts fetch;
};

std::optional<std::string> opt(const std::string& s) { return s.empty() ? std::nullopt : std::optional<std::string>(s); }

void add_fetch_options(CLI::App* cmd, FetchOpts& o) {
  cmd->add_option("--header", o.headers, "Extra request header 'Name: value' (repeatable).");
  cmd->add_option("--cacert", o.cacert, "PEM file of the CA certificates to trust instead of the system's (a private CA).");
  cmd->add_option("--max-bytes", o.max_bytes, "Largest response body accepted, in bytes (default 20971520, 20 MB).");
  cmd->add_option("--timeout", o.timeout, "Seconds for the whole fetch of one page, redirects included (default 60).");
  cmd->add_option("--connect-timeout", o.connect_timeout, "Seconds to connect to a host (default 15).");
  cmd->add_option("--lock-timeout", o.lock_timeout, "Seconds to wait for another writer (default 10).");
}

Expected<FetchSettings> fetch_settings(const FetchOpts& o) {
  FetchSettings s;
  for (const auto& h : o.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos ||
        h.substr(0, colon).find_first_of(" \t") != std::string::npos)
      return fail(ErrorCode::invalid_input, "--header '{}' is not 'Name: value'", h);
  }
  if (o.timeout == 0 || o.connect_timeout == 0)
    return fail(ErrorCode::invalid_input, "--timeout and --connect-timeout must be at least 1 second");
  if (o.max_bytes == 0) return fail(ErrorCode::invalid_input, "--max-bytes must be at least 1");
  s.headers = o.headers;
  if (!o.cacert.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.cacert, ec))
      return fail(ErrorCode::invalid_input, "--cacert '{}': no such file", o.cacert);
    s.cacert = o.cacert;
  }
  s.max_bytes = o.max_bytes;
  s.timeout = std::chrono::seconds(o.timeout);
  s.connect_timeout = std::chrono::seconds(o.connect_timeout);
  return s;
}

AppendOptions append_options(const Globals& g, const FetchOpts& o, bool dry_run) {
  AppendOptions a;
  if (!g.key.empty()) a.key = g.key;
  a.passphrase = passphrase_source(g);
  a.recapture = o.recapture;
  a.dry_run = dry_run;
  a.jobs = g.jobs;
  a.lock_timeout = std::chrono::milliseconds(static_cast<long long>(o.lock_timeout * 1000));
  return a;
}

nlohmann::json error_json(const Error& e) { return {{"message", e.message}, {"exit_code", exit_code_for(e)}}; }

nlohmann::json page_json(const CapturedPage& p, const AppendResult& appended, bool dry_run) {
  nlohmann::json j = {{"url", p.requested_uri}, {"ok", !p.error}};
  if (p.error) {
    j["error"] = error_json(*p.error);
    if (p.final_uri.empty()) return j;
  }
  j["final_uri"] = p.final_uri;
  j["status"] = p.status;
  j["hops"] = p.hops;
  j["content_type"] = p.content_type;
  j["encoding"] = p.encoding;
  j["charset_from"] = p.charset_from;
  j["extractor"] = p.extractor;
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [name, used] : p.metadata) meta[name] = {{"value", used.value}, {"from", used.from}};
  j["metadata"] = meta;
  j["payload_sha256"] = p.payload_sha256;
  j["warc"] = {{"sha256", p.warc_sha256}, {"bytes", p.warc_bytes}};
  j["id"] = p.record_id ? nlohmann::json(*p.record_id) : nlohmann::json(nullptr);
  j["page_warnings"] = p.warnings;
  for (const auto& rec : appended.records)
    if (p.record_id && rec.id == *p.record_id) {
      j["index"] = rec.index;
      j["warnings"] = rec.warnings;
      j["notes"] = rec.notes;
      if (!dry_run || !rec.dry_run) break;
      j["payload"] = rec.dry_run->payload; // the record as it would be signed
      j["text"] = rec.dry_run->text;
      break;
    }
  return j;
}

// "GET https://x/y: ..." or "https://x/y: ..." already name the page; other messages get its URL in front.
std::string failure_line(const CapturedPage& p) {
  const std::string& m = p.error->message;
  if (m.find(p.requested_uri) != std::string::npos || (!p.final_uri.empty() && m.find(p.final_uri) != std::string::npos))
    return m;
  return p.requested_uri + ": " + m;
}

// One line about where the page's text and metadata came from, for the archivist.
std::string summary_note(const CapturedPage& p) {
  std::string s = fmt::format("{}: HTTP {}, {} hop{}, WARC {} bytes; text by {}", p.final_uri, p.status, p.hops,
                              p.hops == 1 ? "" : "s", p.warc_bytes, p.extractor);
  if (!p.charset_from.empty()) s += fmt::format(", charset {} from {}", p.encoding, p.charset_from);
  for (const auto& [name, used] : p.metadata) s += fmt::format("; {} from {}", name, used.from);
  return s;
}

// Read the URL list of --batch: one URL a line; blank lines and lines starting with '#' skipped.
Expected<std::vector<std::string>> read_url_list(const std::string& file) {
  auto content = file == "-" ? read_stdin(16 * 1024 * 1024) : read_file(file, 16 * 1024 * 1024);
  if (!content) return std::unexpected(content.error());
  std::vector<std::string> urls;
  std::size_t pos = 0;
  while (pos < content->size()) {
    auto eol = content->find('\n', pos);
    if (eol == std::string::npos) eol = content->size();
    std::string line = content->substr(pos, eol - pos);
    pos = eol + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    urls.push_back(line.substr(start));
  }
  if (urls.empty()) return fail(ErrorCode::invalid_input, "'{}' lists no URL", file);
  return urls;
}

void run_capture(Globals& g, const CaptureOpts& o) {
  const auto bad = [&](std::string message) { g.exit_code = report(Error{ErrorCode::invalid_input, std::move(message)}); };
  if (o.batch.empty() == o.url.empty()) return bad(o.batch.empty() ? "give a URL to capture, or --batch FILE"
                                                                   : "give either a URL or --batch FILE, not both");
  if (!o.batch.empty() && (!o.title.empty() || !o.published.empty() || !o.text_from.empty()))
    return bad("--title, --published and --text-from name one page: they cannot be used with --batch");
  if (o.batch.empty() && o.all_or_nothing) return bad("--all-or-nothing is for --batch");
  auto settings = fetch_settings(o.fetch);
  if (!settings) {
    g.exit_code = report(settings.error());
    return;
  }
  CaptureRequest base;
  base.selector = opt(o.selector);
  base.publisher = opt(o.publisher);
  base.title = opt(o.title);
  base.published = opt(o.published);
  base.tz = opt(o.tz);
  base.lang = opt(o.lang);
  base.allow_status = o.allow_status;
  for (const auto& kv : o.meta) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return bad(fmt::format("--meta '{}' is not KEY=VALUE", kv));
    base.meta[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (!o.text_from.empty()) {
    auto text = read_file(o.text_from, k_max_statement_bytes);
    if (!text) {
      g.exit_code = report(Error{text.error().code, fmt::format("--text-from: {}", text.error().message)});
      return;
    }
    base.text = std::move(*text);
  }
  std::vector<CaptureRequest> requests;
  if (o.batch.empty()) {
    requests.push_back(base);
    requests.back().url = o.url;
  } else {
    auto urls = read_url_list(o.batch);
    if (!urls) {
      g.exit_code = report(urls.error());
      return;
    }
    for (auto& u : *urls) {
      requests.push_back(base);
      requests.back().url = std::move(u);
    }
  }
  auto archive = open_or_report(g);
  if (!archive) return;
  CaptureOptions options;
  options.fetch = std::move(*settings);
  options.append = append_options(g, o.fetch, o.dry_run);
  options.jobs = g.jobs == 0 ? 4 : g.jobs;
  options.all_or_nothing = o.all_or_nothing;
  ProgressBar bar(g);
  if (!o.batch.empty()) options.progress = bar.labelled_callback();
  auto r = o.batch.empty() ? archive->capture(requests.front(), options) : archive->capture_batch(requests, options);
  bar.finish();
  if (!r) {
    g.exit_code = report(r.error());
    return;
  }
  const CapturedPage* first_failed = nullptr;
  for (const auto& p : r->pages)
    if (p.error && !first_failed) first_failed = &p;
  if (first_failed) g.exit_code = exit_code_for(*first_failed->error);
  const bool nothing_written = r->append.commit.empty();
  if (g.json) {
    nlohmann::json j = {{"commit", r->append.commit}, {"tree_size", r->append.tree_size}, {"dry_run", o.dry_run},
                        {"failed", r->failed}, {"captures", nlohmann::json::array()}, {"notices", r->append.notices}};
    for (const auto& p : r->pages) j["captures"].push_back(page_json(p, r->append, o.dry_run));
    if (o.batch.empty()) j["id"] = j["captures"][0]["id"];
    print_json(j);
    return;
  }
  for (const auto& rec : r->append.records)
    for (const auto& w : rec.warnings) warn(g, fmt::format("{}: {}", rec.label, w));
  for (const auto& n : r->append.notices) note(g, n);
  for (const auto& rec : r->append.records)
    for (const auto& n : rec.notes) note(g, fmt::format("{}: {}", rec.label, n));
  for (const auto& p : r->pages) {
    for (const auto& w : p.warnings) warn(g, fmt::format("{}: {}", p.requested_uri, w));
    if (!p.error) note(g, summary_note(p));
  }
  if (o.dry_run) {
    std::printf("dry run: nothing was written; %zu record%s would be signed\n", r->append.records.size(),
                r->append.records.size() == 1 ? "" : "s");
    for (const auto& rec : r->append.records)
      std::fputs(for_stdout(fmt::format("\nrecord {} ({})\n{}\ncanonical text:\n{}", rec.id, rec.label,
                                        rec.dry_run ? rec.dry_run->payload : std::string(),
                                        rec.dry_run ? rec.dry_run->text : std::string()))
                     .c_str(),
                 stdout);
  } else {
    for (const auto& rec : r->append.records) std::printf("%s\n", rec.id.c_str());
  }
  if (o.batch.empty()) return;
  for (const auto& p : r->pages)
    if (p.error) std::fprintf(stderr, "avow: error: %s\n", terminal_field(failure_line(p)).c_str());
  if (!g.quiet || r->failed > 0) {
    const std::size_t n = r->pages.size();
    std::string line;
    if (r->failed == 0)
      line = fmt::format("captured {} URL{}", n, n == 1 ? "" : "s");
    else
      line = fmt::format("{} of {} URLs failed", r->failed, n);
    if (o.dry_run) line += "; dry run, nothing written";
    else if (nothing_written && r->failed > 0 && o.all_or_nothing) line += "; nothing written (--all-or-nothing)";
    else if (nothing_written) line += "; nothing written";
    else line += fmt::format("; {} record{} in one commit, log size {}", r->append.records.size(),
                             r->append.records.size() == 1 ? "" : "s", r->append.tree_size);
    std::fprintf(stderr, "avow: %s\n", line.c_str());
  }
}

const char* status_name(WatchedSource::Status s) {
  switch (s) {
  case WatchedSource::Status::unchanged: return "unchanged";
  case WatchedSource::Status::changed: return "changed";
  case WatchedSource::Status::gone: return "gone";
  case WatchedSource::Status::moved: return "moved";
  case WatchedSource::Status::failed: return "failed";
  }
  return "failed";
}

void run_watch(Globals& g, const WatchOpts& o) {
  auto settings = fetch_settings(o.fetch);
  if (!settings) {
    g.exit_code = report(settings.error());
    return;
  }
  auto archive = open_or_report(g);
  if (!archive) return;
  WatchOptions options;
  options.sources = o.sources;
  options.publisher = opt(o.publisher);
  options.record_gone = o.record_gone;
  options.capture.fetch = std::move(*settings);
  options.capture.append = append_options(g, o.fetch, false);
  options.capture.jobs = g.jobs == 0 ? 4 : g.jobs;
  ProgressBar bar(g);
  options.capture.progress = bar.labelled_callback();
  auto r = archive->watch(options);
  bar.finish();
  if (!r) {
    g.exit_code = report(r.error());
    return;
  }
  for (const auto& w : r->sources)
    if (w.error && g.exit_code == 0) g.exit_code = exit_code_for(*w.error);
  if (g.exit_code == 0 && (r->gone > 0 || r->moved > 0)) g.exit_code = exit_code::problems;
  const std::string summary = fmt::format("checked {}: {} unchanged, {} changed, {} gone, {} moved, {} failed",
                                          r->sources.size(), r->unchanged, r->changed, r->gone, r->moved, r->failed);
  if (g.json) {
    nlohmann::json j = {{"checked", r->sources.size()}, {"unchanged", r->unchanged}, {"changed", r->changed},
                        {"gone", r->gone},  {"moved", r->moved},  {"failed", r->failed},
                        {"commit", r->append.commit}, {"tree_size", r->append.tree_size},
                        {"sources", nlohmann::json::array()}, {"notices", r->append.notices}, {"summary", summary}};
    for (const auto& w : r->sources) {
      nlohmann::json s = {{"source", w.source}, {"status", status_name(w.status)}, {"previous", w.previous_id},
                          {"http_status", w.http_status}};
      s["record"] = w.record_id ? nlohmann::json(*w.record_id) : nlohmann::json(nullptr);
      if (!w.moved_to.empty()) s["moved_to"] = w.moved_to;
      if (w.status == WatchedSource::Status::changed) s["diff"] = text::render_word_diff(w.diff);
      if (w.error) s["error"] = error_json(*w.error);
      j["sources"].push_back(s);
    }
    print_json(j);
    return;
  }
  for (const auto& n : r->append.notices) note(g, n);
  std::string out;
  for (const auto& w : r->sources) {
    std::string line = fmt::format("{:<9}  {}", status_name(w.status), w.source);
    switch (w.status) {
    case WatchedSource::Status::unchanged: break;
    case WatchedSource::Status::changed: break;
    case WatchedSource::Status::gone: line += fmt::format(" (HTTP {})", w.http_status); break;
    case WatchedSource::Status::moved: line += " -> " + w.moved_to; break;
    case WatchedSource::Status::failed: line += ": " + w.error->message; break;
    }
    if (w.record_id) line += fmt::format("; recorded {} (supersedes {})", *w.record_id, w.previous_id);
    out += terminal_field(line) + "\n";
    if (w.status == WatchedSource::Status::changed)
      out += "  changes from the previous version ([-removed-] {+added+}):\n" + for_stdout(text::render_word_diff(w.diff));
  }
  out += summary + "\n";
  std::fputs(out.c_str(), stdout);
}

} // namespace

void add_capture(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("capture", k_about_capture);
  cmd->footer("Examples:\n"
              "  avow capture https://example.org/press/2026-03-14\n"
              "  avow capture https://example.org/pr/1 --selector '#statement' --publisher 'Example Org'\n"
              "  avow capture https://example.org/report.pdf --text-from report.txt\n"
              "  avow capture --batch urls.txt --jobs 8 --all-or-nothing\n"
              "The page's title, published time, publisher and language come from its JSON-LD, then its OpenGraph\n"
              "tags, then <title> and <html lang>; each flag overrides them. source is the final URL after\n"
              "redirects. --batch reads one URL a line ('#' comments and blank lines skipped) and archives the\n"
              "pages that could be captured in one commit.\n"
              "Exit 0: archived; 3: not HTML, bad charset, no text, bad URL; 6: network, TLS, HTTP 4xx/5xx,\n"
              "timeout, --max-bytes; with --batch, the code of the first URL that failed.");
  cmd->fallthrough();
  auto o = std::make_shared<CaptureOpts>();
  cmd->add_option("url", o->url, "The http:// or https:// URL to capture.");
  cmd->add_option("--batch", o->batch, "File of URLs, one a line ('-': standard input), captured in parallel.");
  cmd->add_flag("--all-or-nothing", o->all_or_nothing, "With --batch: write nothing when one URL fails.");
  cmd->add_option("--selector", o->selector, "CSS selector of the element holding the text, e.g. '#statement'.");
  cmd->add_option("--publisher", o->publisher, "Who published it (instead of what the page says).");
  cmd->add_option("--title", o->title, "Title (instead of what the page says).");
  cmd->add_option("--published", o->published, "Publication time as written (instead of what the page says).");
  cmd->add_option("--tz", o->tz, "IANA time zone of a published time without an offset, e.g. Europe/Istanbul.");
  cmd->add_option("--lang", o->lang, "Language tag of the text (instead of what the page says).");
  cmd->add_option("--meta", o->meta, "Extra KEY=VALUE metadata (repeatable; not capture.*).");
  cmd->add_option("--text-from", o->text_from,
                  "File with the text to record against this capture (for a PDF, an image, or to override).");
  cmd->add_flag("--allow-status", o->allow_status, "Archive a final response with HTTP status 4xx/5xx all the same.");
  add_fetch_options(cmd, o->fetch);
  cmd->add_flag("--recapture", o->fetch.recapture,
                "Record the same text from the same source again (a new capture, e.g. to prove it was still online).");
  cmd->add_flag("--dry-run", o->dry_run, "Fetch and extract, show the records as they would be signed, write nothing.");
  cmd->callback([&g, o] { run_capture(g, *o); });
}

void add_watch(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("watch", k_about_watch);
  cmd->footer("Examples:\n"
              "  avow watch\n"
              "  avow watch --source https://example.org/pr/1\n"
              "  avow watch --publisher 'Example Org' --record-gone\n"
              "Each http(s) source's latest version is fetched and extracted as it was captured. A changed text is\n"
              "archived as a new version (supersedes the previous one) and its word diff printed; all new versions\n"
              "go in one commit. A page now 404/410 is 'gone', one redirected elsewhere 'moved'.\n"
              "Exit 0: every source unchanged or changed; 1: one is gone or moved; 6 (or 3): one could not be\n"
              "fetched or read.");
  cmd->fallthrough();
  auto o = std::make_shared<WatchOpts>();
  cmd->add_option("--source", o->sources, "Watch this source URI only (repeatable); default: every http(s) source.");
  cmd->add_option("--publisher", o->publisher, "Watch only the sources whose latest version has this publisher.");
  cmd->add_flag("--record-gone", o->record_gone,
                "Record a gone or moved page's response as a new version (meta capture.gone), as evidence.");
  add_fetch_options(cmd, o->fetch);
  cmd->add_flag("--recapture", o->fetch.recapture, "Record unchanged pages again too (proof they were still online).");
  cmd->callback([&g, o] { run_watch(g, *o); });
}

} // namespace avow::tool
