// The C2SP tlog-policy parser (archive/log/policy.hpp): an accepted policy formats to a file that parses back to a
// policy with the same form (format_policy is a fixed point after one round), with the same logs, witnesses, groups
// and quorum.

#include <archive/log/policy.hpp>
#include <tests/fuzz/fuzz_check.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace avow;
  const std::string_view input = fuzz::as_view(data, size);

  const auto policy = log::parse_policy(input);
  if (!policy) return 0;
  AVOW_FUZZ_CHECK(!policy->quorum.empty());
  for (const auto& group : policy->groups) {
    AVOW_FUZZ_CHECK(group.threshold >= 1 && group.threshold <= group.members.size());
  }
  const std::string written = log::format_policy(*policy);
  const auto reread = log::parse_policy(written);
  AVOW_FUZZ_CHECK(reread.has_value());
  AVOW_FUZZ_CHECK(log::format_policy(*reread) == written);
  AVOW_FUZZ_CHECK(reread->logs.size() == policy->logs.size());
  AVOW_FUZZ_CHECK(reread->witnesses.size() == policy->witnesses.size());
  AVOW_FUZZ_CHECK(reread->groups.size() == policy->groups.size());
  AVOW_FUZZ_CHECK(reread->quorum == policy->quorum);
  return 0;
}
