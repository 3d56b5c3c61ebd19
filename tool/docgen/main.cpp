// avow-docgen: write avow's man pages (one per command) and its bash and zsh completions from the command tree,
// at build time. Usage: avow-docgen OUTDIR  (writes OUTDIR/man1/*.1, OUTDIR/bash/avow, OUTDIR/zsh/_avow)

#include <tool/app.hpp>
#include <tool/docgen/docs.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>

namespace fs = std::filesystem;

namespace {

bool write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  f.close();
  if (!f) std::fprintf(stderr, "avow-docgen: error: cannot write %s\n", path.c_str());
  return static_cast<bool>(f);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: avow-docgen OUTDIR\n");
    return 2;
  }
  const fs::path out = argv[1];
  std::error_code ec;
  fs::remove_all(out / "man1", ec); // a command removed from the tree leaves no stale page
  CLI::App app;
  avow::tool::Globals g;
  avow::tool::build_app(app, g);
  bool ok = true;
  std::function<void(const CLI::App&)> pages = [&](const CLI::App& a) {
    ok = write(out / "man1" / avow::tool::man_page_name(a), avow::tool::man_page(a)) && ok;
    for (const auto* sub : avow::tool::subcommands_of(a)) pages(*sub);
  };
  pages(app);
  ok = write(out / "bash" / "avow", avow::tool::bash_completion(app)) && ok;
  ok = write(out / "zsh" / "_avow", avow::tool::zsh_completion(app)) && ok;
  return ok ? 0 : 1;
}
