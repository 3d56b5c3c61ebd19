// Unit tests of the progress bar's line (tool/progress.hpp): count with thousands separators, rate, time left, width.

#include <tool/output.hpp>
#include <tool/progress.hpp>

#include <gtest/gtest.h>

#include <string>

namespace avow::tool {
namespace {

TEST(ToolProgress, ThousandsSeparators) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(7), "7");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(1000), "1,000");
  EXPECT_EQ(thousands(12345), "12,345");
  EXPECT_EQ(thousands(100000), "100,000");
  EXPECT_EQ(thousands(1234567), "1,234,567");
  EXPECT_EQ(thousands(18446744073709551615ull), "18,446,744,073,709,551,615");
}

TEST(ToolProgress, ClockTime) {
  EXPECT_EQ(clock_time(0), "0:00");
  EXPECT_EQ(clock_time(21), "0:21");
  EXPECT_EQ(clock_time(61), "1:01");
  EXPECT_EQ(clock_time(3599), "59:59");
  EXPECT_EQ(clock_time(3600), "1:00:00");
  EXPECT_EQ(clock_time(3 * 3600 + 5 * 60 + 9), "3:05:09");
}

TEST(ToolProgress, LineWithCountRateAndTimeLeft) {
  // 12,345 of 100,000 in 2.93 s: 4,213/s, 87,655 left -> 20.8 s, shown rounded up as 0:21.
  EXPECT_EQ(progress_line(12345, 100000, 2.93, 120),
            "[==                      ] 12,345/100,000  4,213/s  0:21 left");
  // Done: a full bar, nothing left.
  EXPECT_EQ(progress_line(5000, 5000, 2.0, 120), "[========================] 5,000/5,000  2,500/s  0:00 left");
  // Half way.
  EXPECT_EQ(progress_line(50, 100, 10.0, 120), "[============            ] 50/100  5/s  0:10 left");
}

TEST(ToolProgress, RateCountsFromWhereTheClockStarted) {
  // The clock started at 4,096 done (after a set-up): 8,192 in 2 s is 2,048/s, not 4,096/s, and the 8,192 left
  // take 4 s, not 2.
  EXPECT_EQ(progress_line(8192, 16384, 2.0, 120, {}, 4096),
            "[============            ] 8,192/16,384  2,048/s  0:04 left");
  // Nothing done since the clock started: no rate yet.
  EXPECT_EQ(progress_line(4096, 16384, 1.0, 120, {}, 4096), "[======                  ] 4,096/16,384");
}

TEST(ToolProgress, NoRateBeforeAnyMeasure) {
  EXPECT_EQ(progress_line(0, 1000, 5.0, 120), "[                        ] 0/1,000");
  EXPECT_EQ(progress_line(10, 1000, 0.05, 120), "[                        ] 10/1,000");
}

TEST(ToolProgress, UnknownTotalShowsCountAndRateOnly) {
  EXPECT_EQ(progress_line(2500, 0, 1.0, 120), "[                        ] 2,500  2,500/s");
}

TEST(ToolProgress, DoneBeyondTotalKeepsTheBarFull) {
  EXPECT_EQ(progress_line(11, 10, 1.0, 120), "[========================] 11/10  11/s  0:00 left");
}

TEST(ToolProgress, FitsTheWidthWithTheLastColumnFree) {
  const std::string full = progress_line(12345, 100000, 2.93, 120);
  for (std::size_t width : {80u, 60u, 50u, 40u, 30u, 20u, 10u, 2u, 1u, 0u}) {
    const std::string line = progress_line(12345, 100000, 2.93, width);
    EXPECT_LE(line.size(), width > 0 ? width - 1 : 0) << width;
  }
  // A narrower terminal shortens the bar first and keeps the figures.
  const std::string narrow = progress_line(12345, 100000, 2.93, 50);
  EXPECT_EQ(narrow, "[=           ] 12,345/100,000  4,213/s  0:21 left");
  EXPECT_EQ(progress_line(12345, 100000, 2.93, 80), full);
}

TEST(ToolProgress, LabelIsCutToTheRoomLeft) {
  EXPECT_EQ(progress_line(3, 10, 0.0, 80, "https://example.org/a"),
            "[=======                 ] 3/10  https://example.org/a");
  const std::string cut = progress_line(3, 10, 0.0, 40, "https://example.org/a/very/long/path");
  EXPECT_EQ(cut, "[=======                 ] 3/10  https:");
  EXPECT_LE(display_width(cut), 39u);
  // A wide character is never split: 中 is two columns, so only two of the three fit in five columns.
  const std::string cjk = progress_line(3, 10, 0.0, 40, "中文字");
  EXPECT_EQ(cjk, "[=======                 ] 3/10  中文字");
  const std::string cjk_cut = progress_line(3, 10, 0.0, 38, "中文字");
  EXPECT_EQ(cjk_cut, "[=======                 ] 3/10  中文");
}

TEST(ToolProgress, OffBarGivesNoCallbackAndPrintsNothing) {
  ProgressBar bar(false);
  EXPECT_FALSE(bar.on());
  EXPECT_FALSE(static_cast<bool>(bar.callback()));
  EXPECT_FALSE(static_cast<bool>(bar.labelled_callback()));
  testing::internal::CaptureStderr();
  bar.update(1, 2);
  bar.finish();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(ToolProgress, OnBarDrawsOnceThenThrottlesAndErases) {
  ProgressBar bar(true);
  ASSERT_TRUE(static_cast<bool>(bar.callback()));
  testing::internal::CaptureStderr();
  bar.update(1, 1000);
  bar.update(2, 1000); // within 100 ms of the first: not drawn
  bar.finish();
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "\r\033[K[                        ] 1/1,000\r\033[K");
}

TEST(ToolProgress, TheFinalStateIsAlwaysDrawn) {
  ProgressBar bar(true);
  testing::internal::CaptureStderr();
  bar.update(1, 3);
  bar.update(2, 3); // throttled
  bar.update(3, 3); // all done: drawn however soon
  bar.finish();
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "\r\033[K[========                ] 1/3\r\033[K[========================] 3/3\r\033[K");
}

} // namespace
} // namespace avow::tool
