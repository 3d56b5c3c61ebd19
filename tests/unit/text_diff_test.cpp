#include <archive/text/diff.hpp>

#include <gtest/gtest.h>

namespace avow::text {
namespace {

using K = DiffRun::Kind;

TEST(TextDiff, WordLevelRunsInEnglish) {
  auto d = word_diff("The office condemned the shelling.\n", "The office strongly condemned the attack.\n");
  ASSERT_TRUE(d);
  EXPECT_EQ(render_word_diff(*d), "The office {+strongly +}condemned the [-shelling-]{+attack+}.\n");
  EXPECT_EQ(d->front(), (DiffRun{K::same, "The office "}));
}

TEST(TextDiff, ArabicWordsAreTokens) {
  // "نطالب المجتمع الدولي" -> "نطالب المجتمع العربي"
  auto d = word_diff("\xD9\x86\xD8\xB7\xD8\xA7\xD9\x84\xD8\xA8 \xD8\xA7\xD9\x84\xD9\x85\xD8\xAC\xD8\xAA\xD9\x85\xD8\xB9 "
                     "\xD8\xA7\xD9\x84\xD8\xAF\xD9\x88\xD9\x84\xD9\x8A\n",
                     "\xD9\x86\xD8\xB7\xD8\xA7\xD9\x84\xD8\xA8 \xD8\xA7\xD9\x84\xD9\x85\xD8\xAC\xD8\xAA\xD9\x85\xD8\xB9 "
                     "\xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\n");
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 4u);
  EXPECT_EQ((*d)[1], (DiffRun{K::removed, "\xD8\xA7\xD9\x84\xD8\xAF\xD9\x88\xD9\x84\xD9\x8A"}));
  EXPECT_EQ((*d)[2], (DiffRun{K::added, "\xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A"}));
}

TEST(TextDiff, IdenticalAndSimilarity) {
  auto same = word_diff("a b c\n", "a b c\n");
  ASSERT_TRUE(same);
  ASSERT_EQ(same->size(), 1u);
  EXPECT_DOUBLE_EQ(similarity(*same), 1.0);
  auto none = word_diff("alpha\n", "omega\n");
  ASSERT_TRUE(none);
  EXPECT_LT(similarity(*none), similarity(*word_diff("alpha beta\n", "alpha gamma\n")));
  EXPECT_FALSE(word_diff("ok", "\xC3\x28"));
}

} // namespace
} // namespace avow::text
