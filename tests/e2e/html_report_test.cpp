// End-to-end: the HTML audit report renders in a real browser. Renders a report with Arabic and English publishers,
// takes a headless Chromium screenshot of it and checks a real PNG came out. Set AVOW_SCREENSHOT_OUT=FILE to keep
// the screenshot (scripts/screenshot does), to look at it.

#include <tests/support/support.hpp>
#include <tool/report_html.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace avow::test {
namespace {

namespace fs = std::filesystem;

AuditReport arabic_fixture() {
  AuditReport r;
  r.origin = "press.example/gulf";
  r.generated = "2024-05-01T12:00:00Z";
  r.filter = "published since 2024-01-01";
  r.tree_size = 1287;
  r.root_hex = "9f2c6b0d4e1a7c35b8e0f4a2d6c19e7b3a5f8d0c2e4b6a8f1d3c5e7a9b0c2d4e";
  r.checkpoint = "press.example/gulf\n1287\nnyxrDU4afDW44PSi1sGeezpfjQwuS2qPHTxeermwLU4=\n\n"
                 "\u2014 press.example/gulf Az3grlgtzPICa5OS8npBqKDi8Rzf4k5QqAJwGKM0rHwCyAkH8/UEkYN0cpqtBwDkZZwmR3iL3MaYfEM"
                 "VxPb4bVfc6g4=\n";
  r.entries = 1287;
  r.statements = 1281;
  r.texts = 1275;
  r.by_publisher = {{"الرياض", 412},
                    {"الجزيرة", 355},
                    {"Reuters", 240},
                    {"وكالة الأنباء السعودية (واس)", 131},
                    {"Associated Press", 97},
                    {"<script>alert(1)</script>", 46}};
  r.by_archivist = {{"a1b2c3d4e5f60718", 1001}, {"0f1e2d3c4b5a6978", 280}};
  r.by_lang = {{"ar", 898}, {"en", 337}, {"", 46}};
  r.by_month = {{"2024-01", 402}, {"2024-02", 451}, {"2024-03", 380}, {"unknown", 48}};
  r.key_events = {{0, "key.add", "a1b2c3d4e5f60718", "archivist", "2024-01-01T08:00:00Z"},
                  {640, "key.add", "0f1e2d3c4b5a6978", "archivist", "2024-02-14T09:30:00Z"},
                  {1200, "key.revoke", "a1b2c3d4e5f60718", "archivist", "2024-03-28T17:05:00Z"}};
  r.most_revised = {{"https://www.alriyadh.com/2024/03/بيان-وزارة-المالية", 5, "2024-03-01T10:00:00Z",
                     "2024-03-09T16:20:00Z"},
                    {"https://www.reuters.com/world/middle-east/saudi-budget-2024", 3, "2024-02-02T07:00:00Z",
                     "2024-02-03T12:45:00Z"}};
  r.checked = true;
  r.problems = {{"signature_mismatch", 1033, std::string("4f6d0c1b2a39e8d7c6b5a4f3e2d1c0b9a8f7e6d5"),
                 std::string("entries/1033.dsse.json"), "signature does not verify under key a1b2c3d4e5f60718", {}}};
  return r;
}

TEST(HtmlReport, ChromiumRendersAScreenshot) {
  const fs::path chromium = "/usr/bin/chromium";
  if (!fs::exists(chromium))
    GTEST_SKIP() << "chromium not installed (apt-get install chromium) \u2014 skipping the screenshot";
  TempDir tmp;
  const auto html_path = tmp / "audit.html";
  const auto png_path = tmp / "audit.png";
  const auto html = tool::render_audit_html(arabic_fixture());
  ASSERT_EQ(html.find("<script>"), std::string::npos);
  write_file(html_path, html);

  const auto r = run_process({"timeout", "120", chromium.string(), "--headless", "--no-sandbox", "--disable-gpu",
                              "--disable-quic", "--no-first-run", "--disable-background-networking",
                              "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                              "--force-device-scale-factor=1", "--user-data-dir=" + (tmp / "profile").string(),
                              "--window-size=1200,1600", "--screenshot=" + png_path.string(),
                              "file://" + html_path.string()},
                             {}, {{"HOME", tmp.path().string()}});
  ASSERT_TRUE(fs::exists(png_path)) << "exit " << r.exit_code << "\n" << r.err;
  const auto png = read_file(png_path);
  ASSERT_GE(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(png.size(), 10u * 1024u) << "a blank page compresses to less";
  if (const char* keep = std::getenv("AVOW_SCREENSHOT_OUT"); keep != nullptr && *keep != '\0') {
    fs::copy_file(png_path, keep, fs::copy_options::overwrite_existing);
    fs::copy_file(html_path, fs::path(keep).replace_extension(".html"), fs::copy_options::overwrite_existing);
  }
}

} // namespace
} // namespace avow::test
