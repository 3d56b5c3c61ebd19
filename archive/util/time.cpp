#include <archive/util/time.hpp>

#include <cstdio>
#include <cstdlib>

namespace avow {

std::string format_rfc3339_utc(SysSeconds t) {
  const auto days = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{t - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return buf;
}

SysSeconds now_seconds() {
  // Test hook, the one place avow reads it: AVOW_TEST_NOW (RFC 3339 UTC) replaces the local clock, so tests can write
  // with a clock in the past or the future without touching the system clock. Not for use outside tests
  // (docs/exit-codes.md); an unparsable value is ignored.
  if (const char* fake = std::getenv("AVOW_TEST_NOW"); fake != nullptr && *fake != '\0')
    if (auto t = parse_rfc3339_utc(fake)) return *t;
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

Expected<SysSeconds> parse_rfc3339_utc(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SSZ, exactly 20 characters.
  const auto bad = [&] { return fail(ErrorCode::invalid_input, "invalid RFC 3339 UTC time '{}' (want YYYY-MM-DDTHH:MM:SSZ)", s); };
  if (s.size() != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z') return bad();
  const auto num = [&](std::size_t pos, std::size_t len, int& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, se)) return bad();
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 59) return bad();
  return SysSeconds{std::chrono::sys_days{ymd}} + std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{se};
}

} // namespace avow
