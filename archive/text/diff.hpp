#pragma once

#include <archive/util/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace avow::text {

// One run of a word-level diff: words kept, removed from the old text, or added in the new one.
struct DiffRun {
  enum class Kind { same, removed, added };
  Kind kind;
  std::string text; // the words (and the spaces between them) of this run, verbatim
  bool operator==(const DiffRun&) const = default;
};

// Return the word-level difference from `old_text` to `new_text` (both valid UTF-8, e.g. canonical texts). Words are
// split at Unicode word boundaries (ICU BreakIterator, so Arabic, Persian and mixed scripts split as words, with
// their spaces and punctuation as separate tokens); the shortest edit script comes from dtl. Adjacent tokens of one
// kind are merged into one run. invalid_input if either text is not valid UTF-8.
Expected<std::vector<DiffRun>> word_diff(std::string_view old_text, std::string_view new_text);

// Render `runs` like `git diff --word-diff=plain`: removed runs as "[-...-]", added as "{+...+}".
std::string render_word_diff(const std::vector<DiffRun>& runs);

// Return how alike two texts are, from 0 (nothing in common) to 1 (same words): shared tokens over all tokens.
double similarity(const std::vector<DiffRun>& runs);

} // namespace avow::text
