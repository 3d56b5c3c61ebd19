// Unit tests of the tool's output: display width, text tables (Arabic, CJK, emoji, hostile cells), CSV and the HTML
// audit report.

#include <tool/output.hpp>
#include <tool/report_html.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace avow::tool {
namespace {

const std::string FSI = "\u2068";
const std::string PDI = "\u2069";

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto eol = s.find('\n', pos);
    EXPECT_NE(eol, std::string::npos) << "every line ends in a newline";
    if (eol == std::string::npos) break;
    out.push_back(s.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return out;
}

TEST(ToolOutputWidth, CountsColumnsPerCodePoint) {
  EXPECT_EQ(display_width(""), 0u);
  EXPECT_EQ(display_width("Reuters"), 7u);
  EXPECT_EQ(display_width("الرياض"), 6u);            // Arabic letters: 1 each
  EXPECT_EQ(display_width("مَرْحَبًا"), 5u);             // 5 letters + 4 harakat (Mn): 0 each
  EXPECT_EQ(display_width("\u0627\u0644\u0645\u0652"), 3u);
  EXPECT_EQ(display_width("中文"), 4u);                // Wide
  EXPECT_EQ(display_width("\uFF21\uFF22"), 4u);       // Fullwidth A B
  EXPECT_EQ(display_width("한국"), 4u);
  EXPECT_EQ(display_width("\u1100\u1161\u11A8"), 2u); // conjoining jamo: one wide cell
  EXPECT_EQ(display_width("😀"), 2u);
  EXPECT_EQ(display_width("👍 ok"), 5u);
  EXPECT_EQ(display_width("e\u0301"), 1u);            // combining acute
  EXPECT_EQ(display_width("\u20DD"), 0u);             // enclosing circle (Me)
  EXPECT_EQ(display_width("a\u200Db\u200Cc"), 3u);    // ZWJ, ZWNJ
  EXPECT_EQ(display_width("\u200E\u200F\u202E\u2066\u2069\u061C"), 0u); // bidi marks and controls
  EXPECT_EQ(display_width("\t\n\x1b\x7f"), 0u);       // controls
  EXPECT_EQ(display_width("\u0085"), 0u);             // C1 control
  EXPECT_EQ(display_width("\xE2\x80\xA6"), 1u);       // … (ambiguous: 1)
  EXPECT_EQ(display_width("a\xFF" "b"), 3u);          // ill-formed byte: one U+FFFD
  EXPECT_EQ(display_width("\xED\xA0\x80"), 3u);       // encoded surrogate: three maximal subparts
  EXPECT_EQ(display_width("\xE4\xB8"), 1u);           // truncated sequence at end
}

TEST(ToolOutputTable, AsciiWithRightAlignedCounts) {
  const Table t{{"PUBLISHER", "COUNT"}, {{"Reuters", "12"}, {"AP", "3"}}, {Align::left, Align::right}};
  EXPECT_EQ(render_table(t, 80), "PUBLISHER  COUNT\n"
                                 "Reuters       12\n"
                                 "AP             3\n");
}

TEST(ToolOutputTable, EmptyAndRaggedTables) {
  EXPECT_EQ(render_table(Table{}, 80), "");
  const Table t{{}, {{"a", "b", "c"}, {"dd"}}, {}};
  EXPECT_EQ(render_table(t, 80), "a   b  c\n"
                                 "dd\n"); // no trailing spaces
}

TEST(ToolOutputTable, ArabicCellsAreIsolatedAndPaddedOutside) {
  const Table t{{"PUBLISHER", "N"}, {{"الرياض", "2"}, {"Reuters", "10"}, {"مَرْحَبًا", "1"}}, {Align::left, Align::right}};
  EXPECT_EQ(render_table(t, 80), "PUBLISHER   N\n" +
                                     FSI + "الرياض" + PDI + "      2\n"
                                     "Reuters    10\n" +
                                     FSI + "مَرْحَبًا" + PDI + "       1\n");
  // Right-aligned Arabic: the padding stays outside (before) the isolate.
  const Table r{{"A", "B"}, {{"x", "الجزيرة"}}, {Align::left, Align::right}};
  EXPECT_EQ(render_table(r, 80), "A        B\n"
                                 "x  " + FSI + "الجزيرة" + PDI + "\n");
  // Arabic-Indic digits (AN) are isolated too; European digits and Latin are not.
  const Table d{{}, {{"\u0661\u0662", "12"}}, {}};
  EXPECT_EQ(render_table(d, 80), FSI + "\u0661\u0662" + PDI + "  12\n");
}

TEST(ToolOutputTable, ArabicCutKeepsHarakatWithTheirLetters) {
  const Table t{{}, {{"مَرْحَبًا", "x"}, {"abc", "y"}}, {}};
  // Natural widths 5 and 1; width 6 leaves 4 for the columns: the Arabic column gets 3: two graphemes and "…".
  EXPECT_EQ(render_table(t, 6), FSI + "مَرْ…" + PDI + "  x\n"
                                "abc  y\n");
}

TEST(ToolOutputTable, CjkIsCutToEvenWidthAndPadded) {
  const Table t{{"SOURCE", "N"}, {{"中文新闻网站", "1"}}, {}};
  EXPECT_EQ(render_table(t, 11), "SOURCE    N\n"
                                 "中文新…   1\n"); // 8 columns: a 4th wide character leaves no room for "…"
  EXPECT_EQ(render_table(t, 10), "SOURCE   N\n"
                                 "中文新…  1\n");   // 7 columns: 3 wide + "…"
}

TEST(ToolOutputTable, EmojiSequencesAreNeverSplit) {
  const std::string family = "👨\u200D👩\u200D👧"; // one grapheme, width 6 (2 + 0 + 2 + 0 + 2)
  const Table t{{}, {{family + " family", "z"}, {"👍 ok", "z"}}, {}};
  EXPECT_EQ(render_table(t, 80), family + " family  z\n"
                                 "👍 ok          z\n");
  EXPECT_EQ(render_table(t, 8), "…      z\n"
                                "👍 ok  z\n");
  EXPECT_EQ(render_table(t, 7), "…     z\n"
                                "👍 …  z\n");
}

TEST(ToolOutputTable, MixedScriptsShrinkLongestColumnFirst) {
  const Table t{{"ID", "PUBLISHER", "TITLE"},
                {{"1", "الرياض", "Saudi cabinet approves the budget"}, {"2", "新华社", "国务院常务会议研究"}},
                {Align::right, Align::left, Align::left}};
  // Natural widths 2, 9, 33; width 30 leaves 26 for columns: the title column shrinks to 15.
  EXPECT_EQ(render_table(t, 30), "ID  PUBLISHER  TITLE\n"
                                 " 1  " + FSI + "الرياض" + PDI + "     Saudi cabinet …\n"
                                 " 2  新华社     国务院常务会议…\n");
}

TEST(ToolOutputTable, HostileCellsCannotEscapeTheirColumn) {
  const Table t{{}, {{"a\tb\nc\r", "|"}, {"\x1b[2J\x07", "|"}, {"\u202Eabc", "|"}, {"x\u2069y", "|"},
                     {"\u2067abc", "|"}, {"\xFF", "|"}, {"\u0085\u2028", "|"}}, {}};
  EXPECT_EQ(render_table(t, 80), "a b c   |\n"
                                 "\u241B[2J\u2407   |\n" +
                                     FSI + "\u202Eabc" + PDI + "     |\n" +
                                     FSI + "xy" + PDI + "      |\n" +
                                     FSI + "\u2067abc" + PDI + PDI + "     |\n"
                                     "\uFFFD       |\n"
                                     "        |\n");
}

TEST(ToolOutputTable, FitsEveryWidthFrom40To200) {
  Table t{{"INDEX", "PUBLISHER", "SOURCE", "TITLE", "CAPTURED"}, {}, {Align::right}};
  const std::vector<std::string> publishers = {"الرياض", "الجزيرة", "Reuters", "新华社", "Agence France-Presse 🇫🇷"};
  for (int i = 0; i < 25; ++i) {
    const auto& p = publishers[static_cast<std::size_t>(i) % publishers.size()];
    t.rows.push_back({std::to_string(i * 997), p, "https://example.org/news/" + std::string(static_cast<std::size_t>(i * 3), 'x'),
                      p + " — " + std::string("مَرْحَبًا بِكُمْ في ") + "中文 " + std::string(static_cast<std::size_t>(i), 'w') + " 👨\u200D👩\u200D👧",
                      "2024-03-0" + std::to_string(i % 9 + 1) + "T10:00:00Z"});
  }
  for (std::size_t width = 40; width <= 200; ++width) {
    const auto lines = lines_of(render_table(t, width));
    ASSERT_EQ(lines.size(), t.rows.size() + 1);
    for (const auto& line : lines) EXPECT_LE(display_width(line), width) << "width " << width << ": " << line;
  }
  // Wide enough: nothing is cut.
  EXPECT_EQ(render_table(t, 1000).find("\u2026"), std::string::npos);
}

TEST(ToolOutputCsv, QuotesOnlyWhatRfc4180Requires) {
  const Table t{{"id", "b,c"},
                {{"x\"y", "line1\nline2"}, {"plain"}, {"cr\ronly", "الرياض"}, {"", "  spaced  "}}, {}};
  EXPECT_EQ(render_csv(t), "id,\"b,c\"\r\n"
                           "\"x\"\"y\",\"line1\nline2\"\r\n"
                           "plain,\r\n"
                           "\"cr\ronly\",الرياض\r\n"
                           ",  spaced  \r\n");
  EXPECT_EQ(render_csv(Table{{}, {{"\"\""}}, {}}), "\"\"\"\"\"\"\r\n");
  EXPECT_EQ(render_csv(Table{}), "");
}

TEST(ToolOutputTerminal, FallsBackToColumnsThenTo120) {
  if (::isatty(STDOUT_FILENO)) GTEST_SKIP() << "stdout is a terminal: its width wins";
  ::setenv("COLUMNS", "77", 1);
  EXPECT_EQ(terminal_width(), 77u);
  ::setenv("COLUMNS", "wide", 1);
  EXPECT_EQ(terminal_width(), 120u);
  ::setenv("COLUMNS", "0", 1);
  EXPECT_EQ(terminal_width(), 120u);
  ::unsetenv("COLUMNS");
  EXPECT_EQ(terminal_width(), 120u);
}

AuditReport hostile_report() {
  AuditReport r;
  r.origin = "news.example/ar";
  r.generated = "2024-05-01T12:00:00Z";
  r.filter = "publisher = <script>alert(1)</script>";
  r.tree_size = 42;
  r.root_hex = "00ff";
  r.checkpoint = "news.example/ar\n42\nAP8=\n\n\u2014 news.example/ar abcd\n";
  r.entries = 40;
  r.statements = 38;
  r.texts = 37;
  r.by_publisher = {{"<script>alert(1)</script>", 20}, {"الرياض", 10}, {"O'Brien & \"Sons\"", 8}};
  r.by_archivist = {{"0123456789abcdef", 38}};
  r.by_lang = {{"ar", 30}, {"", 8}};
  r.by_month = {{"2024-03", 18}, {"unknown", 20}};
  r.key_events = {{0, "key.add", "0123456789abcdef", "archivist", "2024-01-01T00:00:00Z"}};
  r.most_revised = {{"https://example.org/a?x=1&y=2", 3, "2024-01-02T00:00:00Z", "2024-03-04T00:00:00Z"}};
  r.checked = true;
  return r;
}

TEST(ToolAuditHtml, EscapesHostileValuesEverywhere) {
  const auto html = render_audit_html(hostile_report());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("<td dir=\"auto\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("<td dir=\"auto\">publisher = &lt;script&gt;alert(1)&lt;/script&gt;</td>"), std::string::npos);
  EXPECT_NE(html.find("<td dir=\"auto\">O&#39;Brien &amp; &quot;Sons&quot;</td>"), std::string::npos);
  EXPECT_NE(html.find("https://example.org/a?x=1&amp;y=2"), std::string::npos);
  EXPECT_EQ(html.find("x=1&y"), std::string::npos);
}

TEST(ToolAuditHtml, EscapeFunction) {
  EXPECT_EQ(html_escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(html_escape("الرياض"), "الرياض");
  EXPECT_EQ(html_escape("a\xFF" "b\x01\tc\n"), "a\uFFFDb\uFFFD\tc\n");
  EXPECT_EQ(html_escape("\u0085"), "\uFFFD");
}

TEST(ToolAuditHtml, UserCellsCarryDirAutoAndThePageIsLtr) {
  const auto html = render_audit_html(hostile_report());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\" dir=\"ltr\">\n<head>\n<meta charset=\"utf-8\">\n"));
  EXPECT_NE(html.find("<td dir=\"auto\">الرياض</td><td class=\"num\">10</td>"), std::string::npos);
  EXPECT_NE(html.find("<td dir=\"auto\">news.example/ar</td>"), std::string::npos);
  EXPECT_NE(html.find("<td dir=\"auto\" class=\"wrap\">https://example.org/a?x=1&amp;y=2</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"none\">(none)</td><td class=\"num\">8</td>"), std::string::npos); // empty lang
  EXPECT_NE(html.find("<title>avow audit \u2014 news.example/ar</title>"), std::string::npos);
  // Bars: relative to the largest count of their table.
  EXPECT_NE(html.find("<span style=\"width:100.0%\"></span>"), std::string::npos);
  EXPECT_NE(html.find("<span style=\"width:50.0%\"></span>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">52.6%</td>"), std::string::npos); // 20 of 38
}

TEST(ToolAuditHtml, HasEverySectionAndNoExternalResource) {
  auto r = hostile_report();
  const auto html = render_audit_html(r);
  for (const char* id : {"summary", "verification", "counts", "by-publisher", "by-archivist", "by-language", "by-month",
                         "key-events", "most-revised", "checkpoint", "timestamps"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_NE(html.find("no problems found by verify --quick"), std::string::npos);
  EXPECT_NE(html.find("<section id=\"timestamps\">\n<h2>Timestamps</h2>\n<p class=\"none\">none</p>"),
            std::string::npos);
  EXPECT_NE(html.find("<pre dir=\"ltr\">news.example/ar\n42\nAP8=\n\n\u2014 news.example/ar abcd\n</pre>"),
            std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  for (const char* bad : {"<script", "<link", "<img", "src=", "http://", "@import", "url("})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  EXPECT_TRUE(html.ends_with("</html>\n"));

  r.problems = {{"signature_mismatch", 7, std::string("abcdef"), std::string("log/<x>"), "bad <sig>", {"ev<1>"}}};
  const auto bad = render_audit_html(r);
  EXPECT_NE(bad.find("1 problem found by verify --quick"), std::string::npos);
  EXPECT_NE(bad.find("<tr><td class=\"mono\">signature_mismatch</td><td class=\"num\">7</td><td class=\"mono wrap\">"
                     "abcdef</td><td dir=\"auto\" class=\"wrap\">log/&lt;x&gt;</td><td dir=\"auto\">bad &lt;sig&gt;</td>"
                     "<td><pre dir=\"ltr\">ev&lt;1&gt;</pre></td></tr>"),
            std::string::npos);
  r.problems[0].evidence.clear();
  EXPECT_EQ(render_audit_html(r).find("<th>Evidence</th>"), std::string::npos); // no empty column
  r.checked = false;
  EXPECT_NE(render_audit_html(r).find("verify --quick was not run"), std::string::npos);
  r.timestamps = {{"log/timestamps/42.tsr", 42, "2026-11-30T10:00:20Z", "DirName:CN = <TSA>"}};
  EXPECT_NE(render_audit_html(r).find("<tr><td class=\"mono\">log/timestamps/42.tsr</td><td class=\"num\">0\u201341</td>"
                                      "<td class=\"mono\">2026-11-30T10:00:20Z</td><td dir=\"auto\">DirName:CN = "
                                      "&lt;TSA&gt;</td></tr>"),
            std::string::npos);
}

TEST(ToolAuditHtml, IsDeterministic) {
  const auto r = hostile_report();
  EXPECT_EQ(render_audit_html(r), render_audit_html(r));
  auto other = r;
  other.by_publisher[1].second = 11;
  EXPECT_NE(render_audit_html(r), render_audit_html(other));
}

TEST(ToolTerminalField, NeutralisesControlsAndIsolatesBidi) {
  EXPECT_EQ(terminal_field("https://e.org/x"), "https://e.org/x");
  EXPECT_EQ(terminal_field("a\x1b[31mb\nc\td"), "a\u241b[31mb c d");
  EXPECT_EQ(terminal_field("\xC2\x9B" "x\x7F"), "\uFFFDx\u2421");
  EXPECT_EQ(terminal_field("Evil\u202Ecod.exe"), FSI + "Evil\u202Ecod.exe" + PDI);
  EXPECT_EQ(terminal_field("\u2069tail"), FSI + "tail" + PDI); // a stray PDI cannot close an outer isolate
  EXPECT_EQ(terminal_field("\xFF"), "\uFFFD");
}

TEST(ToolOutputWidth, NoLimitWhenStdoutIsNotATerminal) {
  if (::isatty(STDOUT_FILENO)) GTEST_SKIP() << "stdout is a terminal";
  EXPECT_EQ(output_width(), SIZE_MAX);
  Table t;
  t.headers = {"a", "b"};
  t.rows = {{std::string(300, 'x'), "y"}};
  EXPECT_EQ(render_table(t, output_width()), "a" + std::string(301, ' ') + "b\n" + std::string(300, 'x') + "  y\n");
}

} // namespace
} // namespace avow::tool
