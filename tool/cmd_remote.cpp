#include "cli.hpp"
#include "progress.hpp"
#include "output.hpp"

#include <archive/evidence.hpp>
#include <archive/util/file.hpp>

namespace avow::tool {
namespace {

nlohmann::json problems_json(const std::vector<verify::Problem>& problems) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : problems) {
    nlohmann::json e = {{"kind", p.kind}, {"message", p.message}};
    if (p.entry) e["entry"] = *p.entry;
    if (p.commit) e["commit"] = *p.commit;
    if (p.path) e["path"] = *p.path;
    out.push_back(e);
  }
  return out;
}

void print_problems(const std::vector<verify::Problem>& problems) {
  for (const auto& p : problems) {
    std::string where;
    if (p.entry) where += fmt::format(" entry {}", *p.entry);
    if (p.commit) where += fmt::format(" commit {}", p.commit->substr(0, 12));
    if (p.path) where += fmt::format(" path {}", *p.path);
    std::printf("problem: %s%s: %s\n", p.kind.c_str(), where.c_str(), p.message.c_str());
  }
}

const char* status_word(PullResult::Status s) {
  switch (s) {
  case PullResult::Status::up_to_date: return "up_to_date";
  case PullResult::Status::updated: return "updated";
  case PullResult::Status::refused: return "refused";
  case PullResult::Status::split_view: return "split_view";
  }
  return "";
}

const char* status_word(PushResult::Status s) {
  switch (s) {
  case PushResult::Status::pushed: return "pushed";
  case PushResult::Status::up_to_date: return "up_to_date";
  case PushResult::Status::split_view: return "split_view";
  case PushResult::Status::refused: return "refused";
  }
  return "";
}

nlohmann::json pull_json(const PullResult& r) {
  nlohmann::json j = {{"remote", r.remote},
                      {"url", r.url},
                      {"status", status_word(r.status)},
                      {"old_commit", r.old_commit},
                      {"new_commit", r.new_commit},
                      {"remote_commit", r.remote_commit},
                      {"old_size", r.old_size},
                      {"new_size", r.new_size},
                      {"commits_verified", r.commits_verified},
                      {"entries_verified", r.entries_verified},
                      {"texts_verified", r.texts_verified},
                      {"tiles_compared", r.tiles_compared},
                      {"fetch_seconds", r.fetch_seconds},
                      {"verify_seconds", r.verify_seconds},
                      {"problems", problems_json(r.problems)}};
  if (r.evidence_file) j["evidence"] = r.evidence_file->string();
  if (!r.detail.empty()) j["detail"] = r.detail;
  return j;
}

nlohmann::json push_json(const PushResult& r) {
  nlohmann::json j = {{"remote", r.remote}, {"url", r.url},       {"status", status_word(r.status)},
                      {"commit", r.commit}, {"tree_size", r.size}, {"remote_commit", r.remote_commit}};
  if (r.evidence_file) j["evidence"] = r.evidence_file->string();
  if (!r.detail.empty()) j["detail"] = r.detail;
  return j;
}

int pull_exit(const PullResult& r) {
  return r.status == PullResult::Status::refused || r.status == PullResult::Status::split_view ? exit_code::problems
                                                                                                : exit_code::ok;
}
int push_exit(const PushResult& r) {
  return r.status == PushResult::Status::refused || r.status == PushResult::Status::split_view ? exit_code::problems
                                                                                                : exit_code::ok;
}

void print_pull(const Globals& g, const PullResult& r) {
  switch (r.status) {
  case PullResult::Status::up_to_date:
    if (!g.quiet) std::printf("already up to date with %s (%s)\n", r.remote.c_str(), r.url.c_str());
    break;
  case PullResult::Status::updated:
    if (!g.quiet)
      std::printf("pulled %s: tree size %llu -> %llu, %llu new entries and %llu commits verified, main at %s\n",
                  r.remote.c_str(), static_cast<unsigned long long>(r.old_size),
                  static_cast<unsigned long long>(r.new_size), static_cast<unsigned long long>(r.entries_verified),
                  static_cast<unsigned long long>(r.commits_verified), r.new_commit.substr(0, 12).c_str());
    break;
  case PullResult::Status::refused:
    print_problems(r.problems);
    std::printf("refused: %s: %s; main not moved\n", r.url.c_str(), r.detail.c_str());
    break;
  case PullResult::Status::split_view:
    std::printf("SPLIT VIEW: %s: %s; main not moved\n", r.url.c_str(), r.detail.c_str());
    std::printf("evidence written to %s (check it with: avow verify-evidence FILE)\n", r.evidence_file->c_str());
    break;
  }
}

void print_push(const Globals& g, const PushResult& r) {
  switch (r.status) {
  case PushResult::Status::pushed:
    if (!g.quiet)
      std::printf("pushed main (%s, tree size %llu) to %s (%s)\n", r.commit.substr(0, 12).c_str(),
                  static_cast<unsigned long long>(r.size), r.remote.c_str(), r.url.c_str());
    break;
  case PushResult::Status::up_to_date:
    if (!g.quiet) std::printf("%s (%s) is already up to date\n", r.remote.c_str(), r.url.c_str());
    break;
  case PushResult::Status::refused:
    std::printf("refused: %s: %s; nothing pushed\n", r.url.c_str(), r.detail.c_str());
    break;
  case PushResult::Status::split_view:
    std::printf("SPLIT VIEW: %s: %s; nothing pushed\n", r.url.c_str(), r.detail.c_str());
    std::printf("evidence written to %s (check it with: avow verify-evidence FILE)\n", r.evidence_file->c_str());
    break;
  }
}

PullOptions pull_options(const Globals& g, const std::string& evidence) {
  PullOptions o;
  o.jobs = g.jobs;
  if (!evidence.empty()) o.evidence_file = evidence;
  return o;
}

} // namespace

void add_remote(CLI::App& app, Globals& g) {
  auto* remote = app.add_subcommand("remote", "Manage the git remotes this archive replicates with.");
  remote->footer("Example: avow remote add origin ssh://git@forge.example/newsroom/archive.git\n"
                 "         avow remote list");
  remote->require_subcommand(1);
  auto* add = remote->add_subcommand("add", "Add a remote (a path, file://, git://, ssh:// or https:// URL).");
  add->footer("Example: avow remote add mirror /srv/mirrors/archive.git");
  auto name = std::make_shared<std::string>();
  auto url = std::make_shared<std::string>();
  add->add_option("name", *name, "Remote name.")->required();
  add->add_option("url", *url, "Remote URL or path.")->required();
  add->callback([&g, name, url] {
    auto archive = open_or_report(g);
    if (!archive) return;
    if (auto ok = archive->remote_add(*name, *url); !ok) {
      g.exit_code = report(ok.error());
      return;
    }
    if (g.json) print_json({{"name", *name}, {"url", *url}});
    else if (!g.quiet) std::printf("added remote %s: %s\n", name->c_str(), url->c_str());
  });
  auto* list = remote->add_subcommand("list", "List the remotes.");
  list->footer("Example: avow remote list --json");
  list->callback([&g] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto remotes = archive->remotes();
    if (!remotes) {
      g.exit_code = report(remotes.error());
      return;
    }
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& r : *remotes) j.push_back({{"name", r.name}, {"url", r.url}});
      print_json(j);
      return;
    }
    for (const auto& r : *remotes) std::printf("%s\t%s\n", r.name.c_str(), r.url.c_str());
  });

  auto* pull = app.add_subcommand("pull", "Fetch a remote's main, verify what it adds, and fast-forward to it.");
  pull->footer("Example: avow pull origin\n"
               "Exit 0: up to date or pulled; 1: the remote's new entries fail verification, or its log does not\n"
               "extend ours (split-view evidence written, its path printed); 4: not this archive; 6: unreachable.");
  auto pull_name = std::make_shared<std::string>("origin");
  auto pull_evidence = std::make_shared<std::string>();
  pull->add_option("name", *pull_name, "Remote name (default: origin).");
  pull->add_option("--evidence", *pull_evidence, "Write split-view evidence to this file (default: .git/avow/evidence/).");
  pull->callback([&g, pull_name, pull_evidence] {
    auto archive = open_or_report(g);
    if (!archive) return;
    PullOptions options = pull_options(g, *pull_evidence);
    ProgressBar bar(g);
    options.progress = bar.callback();
    auto r = archive->pull(*pull_name, options);
    bar.finish();
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = pull_exit(*r);
    if (g.json) print_json(pull_json(*r));
    else print_pull(g, *r);
  });

  auto* push = app.add_subcommand("push", "Push main to a remote, as a fast-forward of what it holds.");
  push->footer("Example: avow push origin\n"
               "Exit 0: pushed or up to date; 1: the logs fork (split-view evidence written); 4: the remote is ahead\n"
               "(run avow pull) or not this archive; 6: unreachable.");
  auto push_name = std::make_shared<std::string>("origin");
  auto push_evidence = std::make_shared<std::string>();
  push->add_option("name", *push_name, "Remote name (default: origin).");
  push->add_option("--evidence", *push_evidence, "Write split-view evidence to this file (default: .git/avow/evidence/).");
  push->callback([&g, push_name, push_evidence] {
    auto archive = open_or_report(g);
    if (!archive) return;
    auto r = archive->push(*push_name, pull_options(g, *push_evidence));
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = push_exit(*r);
    if (g.json) print_json(push_json(*r));
    else print_push(g, *r);
  });

  auto* sync = app.add_subcommand("sync", "Pull from a remote, then push to it.");
  sync->footer("Example: avow sync origin");
  auto sync_name = std::make_shared<std::string>("origin");
  auto sync_evidence = std::make_shared<std::string>();
  sync->add_option("name", *sync_name, "Remote name (default: origin).");
  sync->add_option("--evidence", *sync_evidence, "Write split-view evidence to this file (default: .git/avow/evidence/).");
  sync->callback([&g, sync_name, sync_evidence] {
    auto archive = open_or_report(g);
    if (!archive) return;
    PullOptions options = pull_options(g, *sync_evidence);
    ProgressBar bar(g);
    options.progress = bar.callback();
    auto pulled = archive->pull(*sync_name, options);
    bar.finish();
    if (!pulled) {
      g.exit_code = report(pulled.error());
      return;
    }
    nlohmann::json j = {{"pull", pull_json(*pulled)}};
    if (!g.json) print_pull(g, *pulled);
    g.exit_code = pull_exit(*pulled);
    if (g.exit_code == exit_code::ok) {
      auto pushed = archive->push(*sync_name, options);
      if (!pushed) {
        if (g.json) print_json(j);
        g.exit_code = report(pushed.error());
        return;
      }
      g.exit_code = push_exit(*pushed);
      j["push"] = push_json(*pushed);
      if (!g.json) print_push(g, *pushed);
    }
    if (g.json) print_json(j);
  });

  auto* clone = app.add_subcommand("clone", "Copy a remote archive into a new folder, verified before it is usable.");
  clone->footer("Example: avow clone https://forge.example/newsroom/archive.git archive-copy\n"
                "The clone holds no private keys: it can verify, pull, push and prove, not archive.\n"
                "Exit 0: cloned and verified; 1: verification failed (the folder is removed); 4: not an avow\n"
                "archive, or DIR is not empty; 6: unreachable.");
  auto clone_url = std::make_shared<std::string>();
  auto clone_dir = std::make_shared<std::string>();
  clone->add_option("url", *clone_url, "Remote URL or path.")->required();
  clone->add_option("dir", *clone_dir, "New archive folder.")->required();
  clone->callback([&g, clone_url, clone_dir] {
    ProgressBar bar(g);
    auto r = Archive::clone({*clone_url, *clone_dir, g.jobs, bar.callback()});
    bar.finish();
    if (!r) {
      g.exit_code = report(r.error());
      return;
    }
    g.exit_code = r->ok ? exit_code::ok : exit_code::problems;
    if (g.json) {
      print_json({{"ok", r->ok}, {"dir", r->dir.string()}, {"url", r->url}, {"commit", r->commit},
                  {"tree_size", r->report.size}, {"entries", r->report.entries},
                  {"problems", problems_json(r->report.problems)}});
      return;
    }
    if (!r->ok) {
      print_problems(r->report.problems);
      std::printf("NOT cloned: %s fails verification (%zu problem%s); %s removed\n", r->url.c_str(),
                  r->report.problems.size(), r->report.problems.size() == 1 ? "" : "s", r->dir.c_str());
      return;
    }
    if (!g.quiet)
      std::printf("cloned and verified: archive '%s' into %s: %llu entries, tree size %llu, root %s\n",
                  r->report.origin.c_str(), r->dir.c_str(), static_cast<unsigned long long>(r->report.entries),
                  static_cast<unsigned long long>(r->report.size), r->report.root_hex.c_str());
  });

  auto* ve = app.add_subcommand("verify-evidence", "Check split-view evidence offline.");
  ve->footer("Example: avow verify-evidence .git/avow/evidence/20261130T130500Z-origin.json --log-key archive.vkey\n"
             "Exit 0: split view PROVEN; 1: NOT proven (the reason is printed); 3: unusable file or key.");
  auto file = std::make_shared<std::string>();
  auto log_key = std::make_shared<std::string>();
  ve->add_option("file", *file, "The evidence file (avow.split-view/1).")->required();
  ve->add_option("--log-key", *log_key, "The log key you trust: a C2SP vkey, or a file holding one.");
  ve->callback([&g, file, log_key] {
    auto text = read_file(*file, 1024 * 1024);
    if (!text) {
      g.exit_code = report(text.error());
      return;
    }
    auto evidence = parse_evidence(*text);
    if (!evidence) {
      g.exit_code = report(evidence.error());
      return;
    }
    std::optional<std::string> pinned;
    if (!log_key->empty()) {
      std::error_code ec;
      if (std::filesystem::is_regular_file(*log_key, ec)) {
        auto k = read_file(*log_key, 4096);
        if (!k) {
          g.exit_code = report(k.error());
          return;
        }
        std::string v = *k;
        while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
        pinned = v;
      } else {
        pinned = *log_key;
      }
    }
    auto verdict = verify_evidence(*evidence, pinned);
    if (!verdict) {
      g.exit_code = report(verdict.error());
      return;
    }
    g.exit_code = verdict->proven ? exit_code::ok : exit_code::problems;
    if (g.json) {
      print_json({{"proven", verdict->proven}, {"reason", verdict->reason}, {"origin", evidence->origin},
                  {"log_key", verdict->log_key}, {"key_pinned", verdict->key_pinned}, {"size_a", verdict->size_a},
                  {"size_b", verdict->size_b}, {"source_a", evidence->a.source}, {"source_b", evidence->b.source}});
      return;
    }
    if (!verdict->proven) {
      std::printf("NOT proven: %s\n", verdict->reason.c_str());
      return;
    }
    std::printf("split view PROVEN: %s (log '%s'; a from %s, b from %s)\n", verdict->reason.c_str(),
                evidence->origin.c_str(), evidence->a.source.c_str(), evidence->b.source.c_str());
    if (verdict->key_pinned) std::printf("signed by the pinned log key: %s\n", verdict->log_key.c_str());
    else std::printf("signed by the key in the file: %s; pin it with --log-key\n", verdict->log_key.c_str());
  });
}

} // namespace avow::tool
