#include <archive/text/diff.hpp>

#include <archive/text/canonical.hpp>

#include <dtl/dtl.hpp>
#include <unicode/brkiter.h>
#include <unicode/unistr.h>

#include <memory>

namespace avow::text {
namespace {

// Split `text` into word-boundary tokens (words, spaces, punctuation), each a UTF-8 substring.
Expected<std::vector<std::string>> tokens(std::string_view text) {
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> it(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
  if (U_FAILURE(status)) return fail(ErrorCode::internal, "cannot create a word break iterator: {}", u_errorName(status));
  it->setText(u);
  std::vector<std::string> out;
  int32_t start = it->first();
  for (int32_t end = it->next(); end != icu::BreakIterator::DONE; start = end, end = it->next()) {
    std::string piece;
    u.tempSubStringBetween(start, end).toUTF8String(piece);
    out.push_back(std::move(piece));
  }
  return out;
}

} // namespace

Expected<std::vector<DiffRun>> word_diff(std::string_view old_text, std::string_view new_text) {
  if (find_invalid_utf8(old_text) || find_invalid_utf8(new_text)) return fail(ErrorCode::invalid_input, "diff input is not valid UTF-8");
  auto a = tokens(old_text);
  if (!a) return std::unexpected(a.error());
  auto b = tokens(new_text);
  if (!b) return std::unexpected(b.error());
  dtl::Diff<std::string, std::vector<std::string>> diff(*a, *b);
  diff.onHuge();
  diff.compose();
  // Between two unchanged stretches, show what was removed before what was added, whatever order dtl gives.
  std::vector<DiffRun> runs;
  std::string removed, added;
  const auto push = [&](DiffRun::Kind kind, const std::string& text) {
    if (text.empty()) return;
    if (!runs.empty() && runs.back().kind == kind) runs.back().text += text;
    else runs.push_back({kind, text});
  };
  const auto flush = [&] {
    push(DiffRun::Kind::removed, removed);
    push(DiffRun::Kind::added, added);
    removed.clear();
    added.clear();
  };
  for (const auto& [token, info] : diff.getSes().getSequence()) {
    if (info.type == dtl::SES_ADD) added += token;
    else if (info.type == dtl::SES_DELETE) removed += token;
    else {
      flush();
      push(DiffRun::Kind::same, token);
    }
  }
  flush();
  return runs;
}

std::string render_word_diff(const std::vector<DiffRun>& runs) {
  std::string out;
  for (const auto& r : runs) {
    if (r.kind == DiffRun::Kind::same) out += r.text;
    else if (r.kind == DiffRun::Kind::removed) out += "[-" + r.text + "-]";
    else out += "{+" + r.text + "+}";
  }
  return out;
}

double similarity(const std::vector<DiffRun>& runs) {
  std::size_t kept = 0, changed = 0;
  for (const auto& r : runs) (r.kind == DiffRun::Kind::same ? kept : changed) += r.text.size();
  const std::size_t denom = 2 * kept + changed;
  return denom == 0 ? 1.0 : static_cast<double>(2 * kept) / static_cast<double>(denom);
}

} // namespace avow::text
