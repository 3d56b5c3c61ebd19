#include "report_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

namespace avow::tool {
namespace {

// Print-friendly: dark text on white, bordered tables, bars drawn with borders (browsers print borders even when
// they drop background colours), each table cell of archive text isolated and aligned to its own start.
constexpr std::string_view k_css = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, "Noto Sans", "Noto Sans Arabic", "Noto Naskh Arabic", "DejaVu Sans", Arial, sans-serif;
  color: #111; background: #fff; margin: 2rem auto; max-width: 72rem; padding: 0 1.5rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; padding-bottom: .3rem; border-bottom: 2px solid #222; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .15rem; border-bottom: 1px solid #888; }
h3 { font-size: 1.05rem; margin: 1rem 0 .3rem; }
table { border-collapse: collapse; margin: .3rem 0 1rem; }
th, td { border: 1px solid #777; padding: .25rem .55rem; vertical-align: baseline; text-align: start; }
thead th { background: #e8e8e8; font-weight: 600; }
th[scope="row"] { background: #f3f3f3; font-weight: 600; white-space: nowrap; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.counts { width: 100%; }
table.summary td.num { text-align: start; }
td.bar { width: 35%; min-width: 6rem; }
td.bar span { display: block; height: 0; margin-top: .35em; border-top: .75em solid #3b6ea5; }
.mono, code, pre { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: .9em; }
.wrap { overflow-wrap: anywhere; word-break: break-all; }
pre { margin: .3rem 0; padding: .5rem .7rem; border: 1px solid #777; background: #fafafa; white-space: pre-wrap;
  overflow-wrap: anywhere; }
.none { color: #555; font-style: italic; }
.status { padding: .45rem .8rem; border: 1px solid #777; border-left-width: 6px; font-weight: 600; }
.status.ok { border-left-color: #2e7d32; }
.status.bad { border-left-color: #c62828; }
.status.unknown { border-left-color: #9e9e9e; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr)); gap: 0 2rem; }
footer { margin-top: 2.5rem; padding-top: .4rem; border-top: 1px solid #888; color: #444; font-size: .85em; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h2, h3 { break-after: avoid; }
  tr, pre, .status { break-inside: avoid; }
  thead { display: table-header-group; }
  .grid { display: block; }
  thead th, th[scope="row"], pre { background: none; }
  td.bar span { border-top-color: #444; }
}
)css";

std::string u64(std::uint64_t v) { return std::to_string(v); }

// One table cell of text that came from the archive: escaped, and isolated with its own direction.
std::string user_td(std::string_view text, std::string_view extra_class = {}) {
  std::string cls(extra_class);
  if (text.empty()) return "<td class=\"none\">(none)</td>";
  return fmt::format("<td dir=\"auto\"{}>{}</td>", cls.empty() ? "" : " class=\"" + cls + "\"", html_escape(text));
}

std::string num_td(std::uint64_t v) { return "<td class=\"num\">" + u64(v) + "</td>"; }

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "0.0";
  return fmt::format("{:.1f}", static_cast<double>(part) * 100.0 / static_cast<double>(whole));
}

void summary(std::string& out, const AuditReport& r) {
  out += "<section id=\"summary\">\n<h2>Summary</h2>\n<table class=\"summary\">\n";
  auto row = [&](std::string_view name, const std::string& td) {
    out += fmt::format("<tr><th scope=\"row\">{}</th>{}</tr>\n", name, td);
  };
  row("Origin", user_td(r.origin));
  row("Generated", user_td(r.generated));
  row("Filter", r.filter.empty() ? std::string("<td>all entries</td>") : user_td(r.filter));
  row("Tree size", num_td(r.tree_size));
  row("Root", r.root_hex.empty() ? std::string("<td class=\"none\">(none)</td>")
                                 : "<td class=\"mono wrap\">" + html_escape(r.root_hex) + "</td>");
  row("Entries", num_td(r.entries));
  row("Statements", num_td(r.statements));
  row("Texts", num_td(r.texts));
  out += "</table>\n</section>\n";
}

} // namespace

std::string audit_check_scope(const AuditReport& r) {
  if (r.checked_since.empty()) return "verify --quick";
  const std::string since = r.checked_since.substr(0, 12);
  if (r.checked_commits == 0)
    return fmt::format("check: nothing added since commit {} (verified on this machine; audit --full checks everything)",
                       since);
  const std::string commits = fmt::format("{} commit{}", r.checked_commits, r.checked_commits == 1 ? "" : "s");
  if (r.checked_from >= r.tree_size)
    return fmt::format("check of the {} since commit {}, with no new entry (verified on this machine; audit --full "
                       "checks everything)",
                       commits, since);
  return fmt::format("check of entries {}..{} and the {} since commit {} (verified on this machine; audit --full "
                     "checks everything)",
                     r.checked_from, r.tree_size - 1, commits, since);
}

namespace {

void verification(std::string& out, const AuditReport& r) {
  out += "<section id=\"verification\">\n<h2>Verification</h2>\n";
  if (!r.checked) {
    out += "<p class=\"status unknown\">verify --quick was not run for this report</p>\n";
  } else if (r.problems.empty()) {
    out += fmt::format("<p class=\"status ok\">no problems found by {}</p>\n", html_escape(audit_check_scope(r)));
  } else {
    out += fmt::format("<p class=\"status bad\">{} problem{} found by {}</p>\n", r.problems.size(),
                       r.problems.size() == 1 ? "" : "s", html_escape(audit_check_scope(r)));
    const bool any_evidence =
        std::any_of(r.problems.begin(), r.problems.end(), [](const auto& p) { return !p.evidence.empty(); });
    out += "<table class=\"problems\">\n<thead><tr><th>Kind</th><th class=\"num\">Entry</th><th>Commit</th>"
           "<th>Path</th><th>Message</th>";
    out += any_evidence ? "<th>Evidence</th></tr></thead>\n<tbody>\n" : "</tr></thead>\n<tbody>\n";
    for (const auto& p : r.problems) {
      out += "<tr>";
      out += "<td class=\"mono\">" + html_escape(p.kind) + "</td>";
      out += p.entry ? num_td(*p.entry) : std::string("<td></td>");
      out += p.commit ? "<td class=\"mono wrap\">" + html_escape(*p.commit) + "</td>" : std::string("<td></td>");
      out += p.path ? user_td(*p.path, "wrap") : std::string("<td></td>");
      out += user_td(p.message);
      if (any_evidence) {
        out += "<td>";
        for (const auto& e : p.evidence) out += "<pre dir=\"ltr\">" + html_escape(e) + "</pre>";
        out += "</td>";
      }
      out += "</tr>\n";
    }
    out += "</tbody>\n</table>\n";
  }
  out += "</section>\n";
}

void counts_table(std::string& out, std::string_view id, std::string_view title, std::string_view label,
                  const AuditReport::Counts& counts, std::string_view label_class = {}) {
  out += fmt::format("<div class=\"count-block\" id=\"{}\">\n<h3>{}</h3>\n", id, title);
  if (counts.empty()) {
    out += "<p class=\"none\">none</p>\n</div>\n";
    return;
  }
  std::uint64_t total = 0, largest = 0;
  for (const auto& [name, n] : counts) {
    total += n;
    largest = std::max(largest, n);
  }
  out += fmt::format("<table class=\"counts\">\n<thead><tr><th>{}</th><th class=\"num\">Count</th>"
                     "<th class=\"num\">Share</th><th class=\"bar\"></th>"
                     "</tr></thead>\n<tbody>\n",
                     label);
  for (const auto& [name, n] : counts) {
    out += "<tr>" + user_td(name, label_class) + num_td(n);
    out += "<td class=\"num\">" + percent(n, total) + "%</td>";
    out += "<td class=\"bar\"><span style=\"width:" + percent(n, largest) + "%\"></span></td></tr>\n";
  }
  out += "</tbody>\n</table>\n</div>\n";
}

void counts(std::string& out, const AuditReport& r) {
  out += "<section id=\"counts\">\n<h2>Counts</h2>\n<div class=\"grid\">\n";
  counts_table(out, "by-publisher", "Per publisher", "Publisher", r.by_publisher);
  counts_table(out, "by-archivist", "Per archivist", "Archivist key", r.by_archivist, "mono");
  counts_table(out, "by-language", "Per language", "Language", r.by_lang);
  counts_table(out, "by-month", "Per month of publication", "Month", r.by_month, "mono");
  out += "</div>\n</section>\n";
}

void key_events(std::string& out, const AuditReport& r) {
  out += "<section id=\"key-events\">\n<h2>Key events</h2>\n";
  if (r.key_events.empty()) {
    out += "<p class=\"none\">none</p>\n</section>\n";
    return;
  }
  out += "<table>\n<thead><tr><th class=\"num\">Index</th><th>Kind</th><th>Key id</th><th>Role</th>"
         "<th>Captured</th></tr></thead>\n<tbody>\n";
  for (const auto& e : r.key_events) {
    out += "<tr>" + num_td(e.index) + user_td(e.kind, "mono") + user_td(e.key_id, "mono wrap") + user_td(e.role) +
           user_td(e.captured) + "</tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

void most_revised(std::string& out, const AuditReport& r) {
  out += "<section id=\"most-revised\">\n<h2>Most-revised sources</h2>\n";
  if (r.most_revised.empty()) {
    out += "<p class=\"none\">none</p>\n</section>\n";
    return;
  }
  out += "<table>\n<thead><tr><th>Source</th><th class=\"num\">Versions</th><th>First captured</th>"
         "<th>Last captured</th></tr></thead>\n<tbody>\n";
  for (const auto& s : r.most_revised) {
    out += "<tr>" + user_td(s.source, "wrap") + num_td(s.versions) + user_td(s.first_captured) +
           user_td(s.last_captured) + "</tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

void checkpoint(std::string& out, const AuditReport& r) {
  out += "<section id=\"checkpoint\">\n<h2>Checkpoint</h2>\n";
  if (r.checkpoint.empty())
    out += "<p class=\"none\">none</p>\n";
  else
    out += "<pre dir=\"ltr\">" + html_escape(r.checkpoint) + "</pre>\n";
  out += "</section>\n";
}

void timestamps(std::string& out, const AuditReport& r) {
  out += "<section id=\"timestamps\">\n<h2>Timestamps</h2>\n";
  if (r.timestamps.empty()) {
    out += "<p class=\"none\">none</p>\n";
  } else {
    out += "<p>Each RFC 3161 token shows that the entries before its checkpoint existed by its time (not checked "
           "against a TSA certificate here: run <code>avow verify --tsa-cert</code>).</p>\n";
    out += "<table>\n<tr><th>Token</th><th>Entries covered</th><th>Existed by</th><th>TSA</th></tr>\n";
    for (const auto& t : r.timestamps)
      out += "<tr><td class=\"mono\">" + html_escape(t.path) + "</td><td class=\"num\">" +
             (t.tree_size == 0 ? std::string("none") : "0\u2013" + std::to_string(t.tree_size - 1)) +
             "</td><td class=\"mono\">" + html_escape(t.gen_time) + "</td><td dir=\"auto\">" + html_escape(t.tsa) +
             "</td></tr>\n";
    out += "</table>\n";
  }
  out += "</section>\n";
}

} // namespace

std::string render_audit_html(const AuditReport& r) {
  const std::string origin = html_escape(r.origin);
  std::string out;
  out.reserve(16384);
  out += "<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "base-uri 'none'; form-action 'none'\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"avow\">\n";
  out += "<title>avow audit \xE2\x80\x94 " + origin + "</title>\n";
  out += "<style>";
  out += k_css;
  out += "</style>\n</head>\n<body>\n";
  out += "<header>\n<h1>avow audit \xE2\x80\x94 <bdi>" + origin + "</bdi></h1>\n</header>\n<main>\n";
  summary(out, r);
  verification(out, r);
  counts(out, r);
  key_events(out, r);
  most_revised(out, r);
  checkpoint(out, r);
  timestamps(out, r);
  out += "</main>\n<footer>Generated by avow at <bdi>" + html_escape(r.generated) +
         "</bdi>. The checkpoint above is the signed statement of the log this report was made from.</footer>\n";
  out += "</body>\n</html>\n";
  return out;
}

} // namespace avow::tool
