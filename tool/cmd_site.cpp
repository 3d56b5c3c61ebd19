#include "cli.hpp"

namespace avow::tool {

void add_site(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("site", "Write the archive as a static web site whose pages verify their records.");
  cmd->footer("Example: avow -C archive site /var/www/archive\n"
              "Writes index.html, a page per record (r/<id>.html), per source and per publisher, a search, and the\n"
              "signed checkpoint, tiles and entry bundles the pages' Verify button checks in the browser. Serve the\n"
              "folder from any static host, or open index.html from disk. The same archive gives the same files.\n"
              "OUTDIR must be absent, empty, or a site avow wrote before (replaced whole, never half).\n"
              "Exit 4: OUTDIR is a file or a folder avow did not write; 6: it cannot be written.");
  cmd->fallthrough();
  auto outdir = std::make_shared<std::string>();
  auto latest = std::make_shared<std::size_t>(50);
  cmd->add_option("outdir", *outdir, "The folder to write the site to.")->required();
  cmd->add_option("--latest", *latest, "How many of the newest records the home page lists (default 50).");
  cmd->callback([&g, outdir, latest] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->site({*outdir, *latest});
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    if (g.json) {
      print_json({{"outdir", r->outdir.string()}, {"tree_size", r->tree_size}, {"records", r->records},
                  {"sources", r->sources}, {"publishers", r->publishers}, {"files", r->files}, {"bytes", r->bytes},
                  {"replaced", r->replaced}});
      return;
    }
    std::printf("site of %s written to %s: %zu record pages, %zu sources, %zu publishers, tree size %llu "
                "(%zu files, %llu bytes)%s\n",
                archive->origin().c_str(), r->outdir.string().c_str(), r->records, r->sources, r->publishers,
                static_cast<unsigned long long>(r->tree_size), r->files, static_cast<unsigned long long>(r->bytes),
                r->replaced ? "; the previous site was replaced" : "");
  });
}

} // namespace avow::tool
