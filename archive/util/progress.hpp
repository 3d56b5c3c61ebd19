#pragma once

// A progress report from a long operation (archive --batch, verify, reindex, pull...): `done` units of `total`
// (entries or statements; total 0 when not known yet). Empty means nobody listens. Called from the thread that
// started the operation, as often as the operation likes: a receiver that draws must throttle itself. The library
// never draws anything; the CLI turns it into a bar on a terminal (tool/progress.hpp).

#include <cstdint>
#include <functional>

namespace avow {

using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

} // namespace avow
