// avow repack: merge the archive's packs outside writes (GitStore::repack).

#include "cli.hpp"
#include "output.hpp"
#include "progress.hpp"

#include <cstdio>

namespace avow::tool {

namespace {

// "8.9 GB", "120.4 MB", "812 kB", "96 B" (decimal units, as du -h --si).
std::string size_text(std::uint64_t bytes) {
  if (bytes >= 1000000000) return fmt::format("{:.1f} GB", static_cast<double>(bytes) / 1e9);
  if (bytes >= 1000000) return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
  if (bytes >= 1000) return fmt::format("{} kB", bytes / 1000);
  return fmt::format("{} B", bytes);
}

} // namespace

void add_repack(CLI::App& app, Globals& g) {
  struct Opts {
    bool all = false;
    double lock_timeout = 600;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "repack", "Merge the archive's packs, so that reads stay fast as it grows (the records do not change).");
  cmd->footer("Every write merges its small packs itself; a large archive also gathers packs of 8 MiB or more, which\n"
              "only repack merges (in packs of up to 98,304 objects). Run it now and then on a large archive, e.g.\n"
              "after each million entries; writers can go on meanwhile.\n"
              "Example: avow -C archive repack");
  cmd->add_flag("--all", o->all,
                "Merge every pack, the small ones too, holding the writer lock throughout (writers wait).");
  cmd->add_option("--lock-timeout", o->lock_timeout,
                  "Seconds to wait for the writer lock (default 600): to move each new pack into place, or with\n"
                  "--all for the whole run.");
  cmd->callback([&g, o] {
    auto archive = open_or_report(g);
    if (!archive) return;
    ProgressBar bar(g);
    store::RepackOptions options;
    options.all = o->all;
    options.lock_timeout = std::chrono::milliseconds(static_cast<long long>(o->lock_timeout * 1000));
    options.progress = bar.callback();
    auto r = archive->repack(options);
    bar.finish();
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (g.json) {
      print_json({{"packs_before", r->packs_before},
                  {"packs_after", r->packs_after},
                  {"packs_merged", r->merged},
                  {"packs_written", r->written},
                  {"objects_rewritten", r->objects},
                  {"bytes_before", r->bytes_before},
                  {"bytes_after", r->bytes_after}});
      return;
    }
    if (g.quiet) return;
    if (r->written == 0)
      std::printf("nothing to repack: %zu pack%s, %s\n", r->packs_before, r->packs_before == 1 ? "" : "s",
                  size_text(r->bytes_before).c_str());
    else
      std::printf("repacked: %zu packs -> %zu (%zu merged into %zu, %llu objects rewritten); %s -> %s\n",
                  r->packs_before, r->packs_after, r->merged, r->written,
                  static_cast<unsigned long long>(r->objects), size_text(r->bytes_before).c_str(),
                  size_text(r->bytes_after).c_str());
  });
}

} // namespace avow::tool
