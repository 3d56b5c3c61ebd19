// Archive::site: the static web archive (docs/FORMAT.md §20). Reads the log at the head of main (the checkpoint
// checked as every reader checks it, the entries from their bundles, the texts), renders the pages and copies the
// log data, then writes everything into a temporary sibling of OUTDIR and renames it into place.

#include <archive/archive.hpp>
#include <archive/archive_impl.hpp>
#include <archive/crypto/sha256.hpp>
#include <archive/json/jcs.hpp>
#include <archive/log/tiles.hpp>
#include <archive/record/dsse.hpp>
#include <archive/record/key_event.hpp>
#include <archive/record/record.hpp>
#include <archive/site_assets.hpp>
#include <archive/text/diff.hpp>
#include <archive/text/html.hpp>
#include <archive/util/bytes.hpp>
#include <archive/verify/log_reader.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace avow {
namespace {

namespace fs = std::filesystem;

// The marker file of a site avow wrote: a later run may replace a folder that holds it.
constexpr std::string_view k_marker_path = ".avow-site";
constexpr std::string_view k_marker = "avow.site/1\n";

// --- The archive's content, as the pages need it --------------------------------------------------------------

struct SiteRecord {
  std::uint64_t index = 0;
  std::string id;
  record::Statement st;
  std::string text;
  std::size_t source = 0;                  // index into SiteData::sources
  std::size_t version = 0;                 // position among its source's versions, oldest first
  std::vector<text::DiffRun> diff;         // from the previous version; empty for the first or a recapture
  bool same_as_previous = false;
};
struct SiteData {
  std::string origin;
  std::string config_json;                 // avow.json verbatim
  std::string checkpoint;                  // log/checkpoint verbatim (with any cosignature lines)
  std::string keys_json;                   // log/keys verbatim (recomputed JCS for an older archive)
  record::KeyState keys;
  log::Checkpoint cp;
  std::string log_key_id;                  // the log key in force, which signed the checkpoint
  std::vector<SiteRecord> records;         // statements, log order
  std::set<std::string> ids;               // their record ids
  std::vector<std::pair<std::string, std::vector<std::size_t>>> sources;    // uri -> records, sorted by uri
  std::map<std::string, std::vector<std::size_t>> publishers;               // publisher -> records
  std::vector<std::pair<std::string, std::string>> log_files;               // tile paths and their bytes
};

Expected<SiteData> read_site_data(const Archive::Impl& impl) {
  const auto& store = impl.store;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  if (!*head) return fail(ErrorCode::failed_precondition, "archive has no commit");
  auto keyed = detail::read_keyed_checkpoint(impl, **head);
  if (!keyed) return std::unexpected(keyed.error());
  const auto& scp = keyed->signed_checkpoint;
  SiteData d;
  d.origin = impl.config.origin;
  d.checkpoint = scp.note;
  d.cp = scp.checkpoint;
  auto config = store.read(**head, record::k_config_path);
  if (!config) return std::unexpected(config.error());
  d.config_json = std::move(*config);
  auto keys = verify::key_state_at(store, **head, scp, impl.log_verifier);
  if (!keys) return std::unexpected(keys.error());
  d.keys = std::move(*keys);
  d.keys_json = scp.keys_jcs ? *scp.keys_jcs : record::key_state_json(d.keys);
  d.log_key_id = crypto::key_id(keyed->log_key.key);

  auto envelopes = verify::read_entries(store, **head, d.cp.size);
  if (!envelopes) return std::unexpected(envelopes.error());
  auto entries = detail::index_entries(0, *envelopes, {});
  if (!entries) return std::unexpected(entries.error());
  std::map<std::string, std::vector<std::size_t>> by_source;
  for (auto& e : *entries) {
    auto* st = std::get_if<record::Statement>(&e.record);
    if (!st) continue;
    auto text = store.read(**head, record::text_path(st->text.sha256));
    if (!text) return std::unexpected(text.error());
    SiteRecord r{e.index, e.id, std::move(*st), std::move(*text), 0, 0, {}, false};
    d.ids.insert(r.id);
    by_source[r.st.source.uri].push_back(d.records.size());
    if (r.st.source.publisher) d.publishers[*r.st.source.publisher].push_back(d.records.size());
    d.records.push_back(std::move(r));
  }
  for (auto& [uri, members] : by_source) {
    for (std::size_t v = 0; v < members.size(); ++v) {
      auto& r = d.records[members[v]];
      r.source = d.sources.size();
      r.version = v;
      if (v == 0) continue;
      const auto& prev = d.records[members[v - 1]];
      if (prev.st.text.sha256 == r.st.text.sha256) {
        r.same_as_previous = true;
        continue;
      }
      auto diff = text::word_diff(prev.text, r.text);
      if (!diff) return std::unexpected(diff.error());
      r.diff = std::move(*diff);
    }
    d.sources.emplace_back(uri, std::move(members));
  }

  auto paths = log::tile_paths(d.cp.size);
  if (!paths) return std::unexpected(paths.error());
  auto read = detail::tile_reader(store, **head);
  for (const auto& p : *paths) {
    auto bytes = read(p);
    if (!bytes) return std::unexpected(bytes.error());
    d.log_files.emplace_back(p, to_string(*bytes));
  }
  return d;
}

// --- HTML ---------------------------------------------------------------------------------------------------------

// Escape `s` for HTML text and quoted attribute values (text::html_escape).
std::string esc(std::string_view s) { return text::html_escape(s); }

// A link to the source only for http(s) URIs: any other scheme (javascript:, data:, file:...) is shown as text.
bool linkable(std::string_view uri) {
  const auto lower_starts = [&](std::string_view prefix) {
    if (uri.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(uri[i])) != prefix[i]) return false;
    return true;
  };
  return lower_starts("https://") || lower_starts("http://");
}

std::string hash_name(std::string_view s) { return to_hex(crypto::sha256(s)); }
std::string short_id(std::string_view id) { return std::string(id.substr(0, 16)); }
std::string lang_attr(const std::optional<std::string>& lang) {
  return lang ? fmt::format(" lang=\"{}\"", esc(*lang)) : std::string();
}
std::string title_of(const SiteRecord& r) { return r.st.title ? *r.st.title : "Untitled statement"; }
std::string record_href(const std::string& base, const SiteRecord& r) { return fmt::format("{}r/{}.html", base, r.id); }
std::string source_href(const std::string& base, const std::string& uri) {
  return fmt::format("{}s/{}.html", base, hash_name(uri));
}
std::string publisher_href(const std::string& base, const std::string& publisher) {
  return fmt::format("{}p/{}.html", base, hash_name(publisher));
}

std::string page(const SiteData& d, const std::string& base, std::string_view title, std::string_view body,
                 bool with_verify) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>{} \xC2\xB7 {}</title>\n", esc(title), esc(d.origin));
  out += fmt::format("<link rel=\"stylesheet\" href=\"{}assets/avow.css\">\n", base);
  if (with_verify) out += fmt::format("<script src=\"{}assets/verify.js\" defer></script>\n", base);
  out += fmt::format("<script src=\"{}assets/site.js\" defer></script>\n", base);
  out += fmt::format("</head>\n<body data-base=\"{}\">\n", base);
  out += "<a class=\"skip\" href=\"#main\">Skip to the content</a>\n";
  out += fmt::format("<header>\n<p class=\"site\"><a href=\"{0}index.html\">{1}</a></p>\n"
                     "<nav aria-label=\"Site\"><ul><li><a href=\"{0}index.html\">Home</a></li>"
                     "<li><a href=\"{0}sources.html\">Sources</a></li><li><a href=\"{0}publishers.html\">Publishers</a>"
                     "</li></ul></nav>\n</header>\n",
                     base, esc(d.origin));
  out += "<main id=\"main\">\n";
  out += body;
  out += "</main>\n<footer>\n<p>A static copy of the avow archive <code>";
  out += esc(d.origin);
  out += fmt::format("</code>, written by <code>avow site</code> from its log at tree size {}.</p>\n</footer>\n",
                     d.cp.size);
  out += "</body>\n</html>\n";
  return out;
}

// One line of a record list: title link, publisher, dates.
std::string record_item(const std::string& base, const SiteRecord& r) {
  std::string out = fmt::format("<li><a href=\"{}\" dir=\"auto\"{}>{}</a>", record_href(base, r),
                                lang_attr(r.st.text.lang), esc(title_of(r)));
  std::string detail;
  if (r.st.source.publisher) detail += fmt::format("<bdi>{}</bdi>", esc(*r.st.source.publisher));
  if (r.st.published) {
    if (!detail.empty()) detail += " \xC2\xB7 ";
    detail += fmt::format("published <bdi>{}</bdi>", esc(r.st.published->as_written));
  }
  if (!detail.empty()) detail += " \xC2\xB7 ";
  detail += fmt::format("captured {} \xC2\xB7 entry {}", esc(r.st.captured), r.index);
  out += fmt::format(" <span class=\"meta\">{}</span></li>\n", detail);
  return out;
}

std::string render_diff(const std::vector<text::DiffRun>& runs) {
  std::string out;
  for (const auto& run : runs) {
    switch (run.kind) {
    case text::DiffRun::Kind::same: out += esc(run.text); break;
    case text::DiffRun::Kind::removed: out += "<del>" + esc(run.text) + "</del>"; break;
    case text::DiffRun::Kind::added: out += "<ins>" + esc(run.text) + "</ins>"; break;
    }
  }
  return out;
}

std::string diff_block(const SiteRecord& r) {
  if (r.version == 0) return "<p>This is the first version archived from this source.</p>\n";
  if (r.same_as_previous) return "<p>The same text as the version before (captured again).</p>\n";
  return fmt::format("<div class=\"diff text\" dir=\"auto\"{}>{}</div>\n", lang_attr(r.st.text.lang),
                     render_diff(r.diff));
}

std::string key_label(const SiteData& d, const std::string& id) {
  for (const auto& k : d.keys.keys)
    if (k.id == id && k.name) return fmt::format("<code>{}</code> (<bdi>{}</bdi>)", short_id(id), esc(*k.name));
  return fmt::format("<code>{}</code>", short_id(id));
}

std::string source_link(const std::string& uri) {
  if (linkable(uri))
    return fmt::format("<a href=\"{0}\" rel=\"nofollow noopener noreferrer\" dir=\"auto\">{0}</a>", esc(uri));
  return fmt::format("<bdi class=\"uri\">{}</bdi>", esc(uri));
}

std::string record_page(const SiteData& d, const SiteRecord& r) {
  const std::string base = "../";
  const auto& st = r.st;
  const auto lang = lang_attr(st.text.lang);
  std::string b;
  b += fmt::format("<h1 dir=\"auto\"{}>{}</h1>\n", lang, esc(title_of(r)));
  b += fmt::format("<article id=\"record\" data-id=\"{}\" data-index=\"{}\">\n", r.id, r.index);
  b += "<section aria-labelledby=\"text-h\">\n<h2 id=\"text-h\">Text</h2>\n";
  b += fmt::format("<div id=\"text\" class=\"text\" dir=\"auto\"{}>{}</div>\n", lang, esc(r.text));
  b += fmt::format("<p><a href=\"{}{}\">The text as a plain file</a> ({} bytes, SHA-256 <code>{}</code>)</p>\n",
                   base, record::text_path(st.text.sha256), st.text.bytes, st.text.sha256);
  b += "</section>\n";
  b += "<section aria-labelledby=\"verify-h\">\n<h2 id=\"verify-h\">Verify</h2>\n";
  b += "<p>Check in this browser that this record is in the archive's signed log: the checkpoint signature, the "
       "witness cosignatures, the inclusion proof from the hash tiles, the archivist's signature and the text "
       "shown above.</p>\n";
  b += "<button type=\"button\" id=\"verify\">Verify this record</button>\n";
  b += "<p id=\"verify-result\" class=\"result\" role=\"status\" aria-live=\"polite\"></p>\n</section>\n";

  b += "<section aria-labelledby=\"meta-h\">\n<h2 id=\"meta-h\">Record</h2>\n<dl>\n";
  b += fmt::format("<dt>Source</dt><dd>{} (<a href=\"{}\">all versions from this source</a>)</dd>\n",
                   source_link(st.source.uri), source_href(base, st.source.uri));
  if (st.source.publisher)
    b += fmt::format("<dt>Publisher</dt><dd><a href=\"{}\" dir=\"auto\">{}</a></dd>\n",
                     publisher_href(base, *st.source.publisher), esc(*st.source.publisher));
  if (st.published) {
    b += fmt::format("<dt>Published</dt><dd><bdi>{}</bdi>", esc(st.published->as_written));
    if (st.published->utc) b += fmt::format(" (UTC {})", esc(*st.published->utc));
    else if (st.published->local) b += fmt::format(" (local time {})", esc(*st.published->local));
    b += "</dd>\n";
  }
  b += fmt::format("<dt>Captured</dt><dd>{}</dd>\n", esc(st.captured));
  b += fmt::format("<dt>Archivist key</dt><dd>{}</dd>\n", key_label(d, st.archivist));
  b += fmt::format("<dt>Log index</dt><dd>{}</dd>\n", r.index);
  b += fmt::format("<dt>Record id</dt><dd><code class=\"id\">{}</code></dd>\n", r.id);
  if (st.text.lang) b += fmt::format("<dt>Language</dt><dd>{}</dd>\n", esc(*st.text.lang));
  if (st.original)
    b += fmt::format("<dt>Captured as</dt><dd>{} ({} bytes)</dd>\n", esc(st.original->encoding), st.original->bytes);
  if (st.supersedes) {
    b += d.ids.contains(*st.supersedes) ? fmt::format("<dt>Supersedes</dt><dd><a href=\"{}.html\"><code>{}</code></a></dd>\n", *st.supersedes,
                             short_id(*st.supersedes))
               : fmt::format("<dt>Supersedes</dt><dd><code>{}</code></dd>\n", esc(*st.supersedes));
  }
  for (const auto& [k, v] : st.meta)
    b += fmt::format("<dt><bdi>{}</bdi></dt><dd dir=\"auto\">{}</dd>\n", esc(k), esc(v));
  b += "</dl>\n</section>\n";

  const auto& versions = d.sources[r.source].second;
  b += "<section aria-labelledby=\"versions-h\">\n<h2 id=\"versions-h\">Versions</h2>\n";
  // At most k_version_window versions either side of this one (a source captured thousands of times would
  // otherwise make every page list them all); the source page lists every version.
  constexpr std::size_t k_version_window = 10;
  const std::size_t from = r.version > k_version_window ? r.version - k_version_window : 0;
  const std::size_t to = std::min(versions.size(), r.version + k_version_window + 1);
  b += fmt::format("<p>{} version{} archived from this source, oldest first{}.</p>\n<ol class=\"versions\" "
                   "start=\"{}\">\n",
                   versions.size(), versions.size() == 1 ? "" : "s",
                   from > 0 || to < versions.size()
                       ? fmt::format("; versions {} to {} are listed here, <a href=\"{}\">all on the source page</a>",
                                     from + 1, to, source_href(base, st.source.uri))
                       : std::string(),
                   from + 1);
  for (std::size_t p = from; p < to; ++p) {
    const auto& o = d.records[versions[p]];
    if (&o == &r)
      b += fmt::format("<li><a href=\"{}.html\" aria-current=\"page\">this version</a> "
                       "<span class=\"meta\">captured {} \xC2\xB7 entry {}</span></li>\n",
                       o.id, esc(o.st.captured), o.index);
    else
      b += fmt::format("<li><a href=\"{}.html\" dir=\"auto\"{}>{}</a> <span class=\"meta\">captured {} \xC2\xB7 "
                       "entry {}</span></li>\n",
                       o.id, lang_attr(o.st.text.lang), esc(title_of(o)), esc(o.st.captured), o.index);
  }
  b += "</ol>\n<h3>Changes from the previous version</h3>\n";
  b += diff_block(r);
  if (r.version + 1 < versions.size()) {
    const auto& next = d.records[versions[r.version + 1]];
    b += "<h3>Changes in the next version</h3>\n";
    b += diff_block(next);
  }
  b += "</section>\n</article>\n";
  return page(d, base, title_of(r), b, true);
}

std::string source_page(const SiteData& d, const std::string& uri, const std::vector<std::size_t>& members) {
  const std::string base = "../";
  std::string b = "<h1>Source</h1>\n";
  b += fmt::format("<p class=\"uri\">{}</p>\n", source_link(uri));
  b += fmt::format("<p>{} version{} archived, oldest first, each with the words changed since the one before "
                   "(<del>removed</del>, <ins>added</ins>).</p>\n",
                   members.size(), members.size() == 1 ? "" : "s");
  for (const auto m : members) {
    const auto& r = d.records[m];
    b += fmt::format("<section aria-labelledby=\"v{0}\">\n<h2 id=\"v{0}\"><a href=\"{1}\" dir=\"auto\"{2}>{3}</a></h2>\n",
                     r.version + 1, record_href(base, r), lang_attr(r.st.text.lang), esc(title_of(r)));
    b += fmt::format("<p class=\"meta\">version {} \xC2\xB7 captured {} \xC2\xB7 entry {}</p>\n", r.version + 1,
                     esc(r.st.captured), r.index);
    b += diff_block(r);
    b += "</section>\n";
  }
  return page(d, base, "Source", b, false);
}

std::string publisher_page(const SiteData& d, const std::string& publisher, const std::vector<std::size_t>& members) {
  const std::string base = "../";
  std::string b = fmt::format("<h1 dir=\"auto\">{}</h1>\n", esc(publisher));
  b += fmt::format("<p>{} record{} from this publisher, newest first.</p>\n<ul class=\"records\">\n", members.size(),
                   members.size() == 1 ? "" : "s");
  for (auto it = members.rbegin(); it != members.rend(); ++it) b += record_item(base, d.records[*it]);
  b += "</ul>\n";
  return page(d, base, publisher, b, false);
}

std::string sources_page(const SiteData& d) {
  std::string b = "<h1>Sources</h1>\n";
  b += fmt::format("<p>{} source{}.</p>\n<ul class=\"records\">\n", d.sources.size(), d.sources.size() == 1 ? "" : "s");
  for (const auto& [uri, members] : d.sources)
    b += fmt::format("<li><a href=\"{}\" dir=\"auto\">{}</a> <span class=\"meta\">{} version{}</span></li>\n",
                     source_href("", uri), esc(uri), members.size(), members.size() == 1 ? "" : "s");
  b += "</ul>\n";
  return page(d, "", "Sources", b, false);
}

std::string publishers_page(const SiteData& d) {
  std::string b = "<h1>Publishers</h1>\n";
  b += fmt::format("<p>{} publisher{}.</p>\n<ul class=\"records\">\n", d.publishers.size(),
                   d.publishers.size() == 1 ? "" : "s");
  for (const auto& [name, members] : d.publishers)
    b += fmt::format("<li><a href=\"{}\" dir=\"auto\">{}</a> <span class=\"meta\">{} record{}</span></li>\n",
                     publisher_href("", name), esc(name), members.size(), members.size() == 1 ? "" : "s");
  b += "</ul>\n";
  return page(d, "", "Publishers", b, false);
}

std::string home_page(const SiteData& d, std::size_t latest) {
  std::string b = fmt::format("<h1>{}</h1>\n", esc(d.origin));
  b += fmt::format("<p>An append-only, signed archive of public statements. Its log holds {} entries ({} "
                   "statement{}); the checkpoint of size {} has the root <code class=\"id\">{}</code> and is signed "
                   "by the log key <code class=\"id\">{}</code>.</p>\n",
                   d.cp.size, d.records.size(), d.records.size() == 1 ? "" : "s", d.cp.size,
                   base64_encode(d.cp.root), d.log_key_id);
  b += "<p>Each record page has a <strong>Verify</strong> button that checks the record against this signed log in "
       "your browser. It trusts the keys this site serves: compare the log key with one published elsewhere, or check "
       "a proof bundle with <code>avow verify-proof</code>.</p>\n";
  b += "<section aria-labelledby=\"search-h\">\n<h2 id=\"search-h\">Search</h2>\n";
  b += "<form id=\"search-form\" role=\"search\" action=\"#\">\n"
       "<label for=\"search\">Words from titles, publishers, sources or texts</label>\n"
       "<input id=\"search\" type=\"search\" name=\"q\" autocomplete=\"off\">\n</form>\n"
       "<p id=\"search-status\" role=\"status\" aria-live=\"polite\"></p>\n"
       "<ul id=\"search-results\" class=\"records\"></ul>\n</section>\n";
  b += "<section aria-labelledby=\"latest-h\">\n<h2 id=\"latest-h\">Latest records</h2>\n<ul class=\"records\">\n";
  std::size_t n = 0;
  for (auto it = d.records.rbegin(); it != d.records.rend() && n < latest; ++it, ++n) b += record_item("", *it);
  b += "</ul>\n</section>\n";
  b += fmt::format("<section aria-labelledby=\"browse-h\">\n<h2 id=\"browse-h\">Browse</h2>\n<ul>\n"
                   "<li><a href=\"sources.html\">All {} sources</a></li>\n"
                   "<li><a href=\"publishers.html\">All {} publishers</a></li>\n</ul>\n</section>\n",
                   d.sources.size(), d.publishers.size());
  b += "<section aria-labelledby=\"keys-h\">\n<h2 id=\"keys-h\">Keys</h2>\n<table>\n"
       "<thead><tr><th scope=\"col\">key id</th><th scope=\"col\">role</th><th scope=\"col\">name</th>"
       "<th scope=\"col\">added by entry</th><th scope=\"col\">revoked by entry</th></tr></thead>\n<tbody>\n";
  for (const auto& k : d.keys.keys)
    b += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td><bdi>{}</bdi></td><td>{}</td><td>{}</td></tr>\n",
                     short_id(k.id), esc(k.role), k.name ? esc(*k.name) : std::string(),
                     k.added_at ? std::to_string(*k.added_at) : std::string("genesis"),
                     k.revoked_at ? fmt::format("{} ({})", *k.revoked_at, esc(k.reason.value_or(""))) : std::string());
  b += "</tbody>\n</table>\n</section>\n";
  b += "<section aria-labelledby=\"data-h\">\n<h2 id=\"data-h\">Log data</h2>\n<ul>\n"
       "<li><a href=\"checkpoint\">checkpoint</a> (the signed checkpoint, with any witness cosignatures)</li>\n"
       "<li><a href=\"keys.json\">keys.json</a> (the key state the checkpoint commits to)</li>\n"
       "<li><a href=\"avow.json\">avow.json</a> (origin and genesis log key)</li>\n"
       "<li>tile/ (hash tiles and entry bundles, C2SP tlog-tiles)</li>\n</ul>\n";
  for (const auto& asset : detail::site_assets())
    if (asset.path == "verify.js" || asset.path == "site.js")
      b += fmt::format("<p>The Verify runs <a href=\"assets/{0}\">assets/{0}</a>, SHA-256 <code class=\"id\">{1}</code>: "
                       "compare it with the file of the avow release that wrote this site.</p>\n",
                       asset.path, to_hex(crypto::sha256(asset.data)));
  b += "</section>\n";
  return page(d, "", d.origin, b, false);
}

// The search index: one array per statement [record id, title, publisher, source, first words of the text].
std::string search_index(const SiteData& d) {
  std::string out = "window.AVOW_SEARCH = [\n";
  for (std::size_t i = 0; i < d.records.size(); ++i) {
    const auto& r = d.records[i];
    std::string words;
    std::size_t taken = 0;
    for (std::size_t p = 0; p < r.text.size() && taken < 400; ++p, ++taken) {
      const char c = r.text[p];
      words += (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;
    }
    while (!words.empty() && (static_cast<unsigned char>(words.back()) & 0xC0) == 0x80) words.pop_back();
    if (!words.empty() && static_cast<unsigned char>(words.back()) >= 0xC0) words.pop_back();
    out += "[";
    const std::string fields[] = {r.id, r.st.title.value_or(""), r.st.source.publisher.value_or(""), r.st.source.uri,
                                  words};
    for (std::size_t f = 0; f < std::size(fields); ++f) {
      if (f) out += ",";
      (void)json::append_string(out, fields[f]);
    }
    out += i + 1 < d.records.size() ? "],\n" : "]\n";
  }
  out += "];\n";
  return out;
}

// The same bytes as a script for file:// pages: avowData("<path>", "<base64>");
std::string data_script(std::string_view path, std::string_view bytes) {
  return fmt::format("avowData(\"{}\",\"{}\");\n", path, base64_encode(as_bytes(bytes)));
}

// @noble/ed25519 (an ES module) as a classic script that defines globalThis.nobleEd25519: its one export statement
// becomes an assignment. The rest of the file is copied unchanged (archive/site/vendor/README.md gives its hash).
Expected<std::string> noble_script(std::string_view module) {
  const auto at = module.rfind("\nexport {");
  if (at == std::string_view::npos) return fail(ErrorCode::internal, "vendored @noble/ed25519 has no export statement");
  std::string out = "// @noble/ed25519 as a classic script (avow site): the module's export became globalThis.nobleEd25519.\n";
  out += "(function () {\n";
  out += module.substr(0, at + 1);
  out += "globalThis.nobleEd25519 = {";
  out += module.substr(at + std::string_view("\nexport {").size());
  out += "})();\n";
  return out;
}

// Every file of the site, by path; a std::map so the write order (and so nothing else) is fixed.
Expected<std::map<std::string, std::string>> render(const SiteData& d, std::size_t latest) {
  std::map<std::string, std::string> files;
  files[std::string(k_marker_path)] = std::string(k_marker);
  files["index.html"] = home_page(d, latest);
  files["sources.html"] = sources_page(d);
  files["publishers.html"] = publishers_page(d);
  files["search-index.js"] = search_index(d);
  for (const auto& r : d.records) {
    files["r/" + r.id + ".html"] = record_page(d, r);
    files[record::text_path(r.st.text.sha256)] = r.text;
  }
  for (const auto& [uri, members] : d.sources) files["s/" + hash_name(uri) + ".html"] = source_page(d, uri, members);
  for (const auto& [name, members] : d.publishers)
    files["p/" + hash_name(name) + ".html"] = publisher_page(d, name, members);
  const auto data = [&](const std::string& path, const std::string& bytes) {
    files[path] = bytes;
    files["data/" + path + ".js"] = data_script(path, bytes);
  };
  data("checkpoint", d.checkpoint);
  data("avow.json", d.config_json);
  data("keys.json", d.keys_json);
  for (const auto& [path, bytes] : d.log_files) data(path, bytes);
  for (const auto& asset : detail::site_assets()) {
    if (asset.path == "vendor/noble-ed25519.js") {
      auto script = noble_script(asset.data);
      if (!script) return std::unexpected(script.error());
      files["assets/noble-ed25519.js"] = std::move(*script);
    } else if (asset.path == "vendor/LICENSE.noble-ed25519") {
      files["assets/LICENSE.noble-ed25519.txt"] = std::string(asset.data);
    } else {
      files["assets/" + std::string(asset.path)] = std::string(asset.data);
    }
  }
  return files;
}

// --- Writing: a temporary sibling folder, then a rename (or an exchange with the previous site) ----------------

Expected<void> write_one(const fs::path& file, std::string_view data) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  if (ec) return fail(ErrorCode::io, "cannot create folder '{}': {}", file.parent_path().string(), ec.message());
  std::FILE* f = std::fopen(file.c_str(), "wbx");
  if (!f) return fail(ErrorCode::io, "cannot write '{}': {}", file.string(), std::strerror(errno));
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  const int saved = errno;
  if (std::fclose(f) != 0 || !ok)
    return fail(ErrorCode::io, "cannot write '{}': {}", file.string(), std::strerror(ok ? errno : saved));
  return {};
}

// What OUTDIR holds now: nothing (absent or an empty folder), a previous site, or something else (refused).
enum class Target { fresh, empty_dir, previous_site };
Expected<Target> inspect(const fs::path& out) {
  std::error_code ec;
  const auto status = fs::symlink_status(out, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return fail(ErrorCode::io, "cannot read '{}': {}", out.string(), ec.message());
  if (!fs::exists(status)) return Target::fresh;
  if (!fs::is_directory(status))
    return fail(ErrorCode::failed_precondition, "'{}' exists and is not a folder: refusing to write a site there",
                out.string());
  if (fs::is_empty(out, ec)) return Target::empty_dir;
  std::ifstream marker(out / k_marker_path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(marker)), std::istreambuf_iterator<char>());
  if (content != k_marker)
    return fail(ErrorCode::failed_precondition,
                "'{}' is not empty and is not a site avow wrote (no {} file): refusing to replace it", out.string(),
                k_marker_path);
  return Target::previous_site;
}

// Remove temporary folders a killed run left beside OUTDIR (".<name>.avow-site-*").
void remove_leftovers(const fs::path& parent, const std::string& prefix) {
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with(prefix)) fs::remove_all(it->path(), ec);
  }
}

struct TempDirGuard {
  fs::path path;
  bool keep = false;
  ~TempDirGuard() {
    if (keep || path.empty()) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

Expected<bool> write_site(const fs::path& out_given, const std::map<std::string, std::string>& files,
                          std::uint64_t& bytes) {
  const fs::path out = fs::absolute(out_given).lexically_normal();
  const fs::path target = out.has_filename() ? out : out.parent_path();
  auto what = inspect(target);
  if (!what) return std::unexpected(what.error());
  const fs::path parent = target.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) return fail(ErrorCode::io, "cannot create folder '{}': {}", parent.string(), ec.message());
  const std::string prefix = "." + target.filename().string() + ".avow-site-";
  remove_leftovers(parent, prefix);
  std::random_device rd;
  TempDirGuard tmp{parent / fmt::format("{}{}-{:08x}", prefix, static_cast<long>(::getpid()), rd())};
  if (!fs::create_directory(tmp.path, ec) || ec)
    return fail(ErrorCode::io, "cannot create folder '{}': {}", tmp.path.string(), ec ? ec.message() : "it exists");
  bytes = 0;
  for (const auto& [path, data] : files) {
    if (auto ok = write_one(tmp.path / path, data); !ok) return std::unexpected(ok.error());
    bytes += data.size();
  }
  if (*what == Target::previous_site) {
    // Swap the new site and the old one in one step, then drop the old one (now at the temporary name).
    if (::renameat2(AT_FDCWD, tmp.path.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) != 0)
      return fail(ErrorCode::io, "cannot replace '{}': {}", target.string(), std::strerror(errno));
    return true; // the guard removes the old site
  }
  // Absent, or an empty folder: rename(2) replaces an empty folder.
  if (std::rename(tmp.path.c_str(), target.c_str()) != 0)
    return fail(ErrorCode::io, "cannot rename '{}' to '{}': {}", tmp.path.string(), target.string(),
                std::strerror(errno));
  tmp.keep = true;
  return false;
}

} // namespace

Expected<Archive::SiteResult> Archive::site(const SiteOptions& options) const {
  if (options.outdir.empty()) return fail(ErrorCode::invalid_input, "no output folder given");
  // Refuse an unusable OUTDIR before reading the whole log (write_site checks again just before writing).
  if (auto what = inspect(fs::absolute(options.outdir).lexically_normal()); !what) return std::unexpected(what.error());
  auto data = read_site_data(*m_impl);
  if (!data) return std::unexpected(data.error());
  auto files = render(*data, options.latest);
  if (!files) return std::unexpected(files.error());
  SiteResult result;
  auto replaced = write_site(options.outdir, *files, result.bytes);
  if (!replaced) return std::unexpected(replaced.error());
  result.outdir = options.outdir;
  result.tree_size = data->cp.size;
  result.records = data->records.size();
  result.sources = data->sources.size();
  result.publishers = data->publishers.size();
  result.files = files->size();
  result.replaced = *replaced;
  return result;
}

} // namespace avow
