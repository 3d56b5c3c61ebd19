// Replication: remotes, pull, push, sync and clone (docs/FORMAT.md §18). Nothing fetched becomes main before it is
// verified: pull checks only what a remote adds (verify::verify_extension), clone runs the full verify.

#include <archive/archive.hpp>

#include <archive/archive_impl.hpp>
#include <archive/evidence.hpp>
#include <archive/log/checkpoint.hpp>
#include <archive/log/proof.hpp>
#include <archive/store/remote.hpp>
#include <archive/store/writer_lock.hpp>
#include <archive/util/file.hpp>
#include <archive/verify/incremental.hpp>

#include <bit>
#include <chrono>

namespace avow {
namespace {

namespace fs = std::filesystem;

// What a fetch brought: the remote's main, in the quarantine ref (nullopt: the remote has no main).
struct Fetched {
  std::string url;
  std::string ref;
  std::optional<store::Oid> tip;
};

Expected<std::string> url_of(const store::GitStore& store, std::string_view name) {
  auto url = store::remote_url(store.git_dir(), name);
  if (!url && url.error().code == ErrorCode::not_found)
    return fail(ErrorCode::failed_precondition, "{}", url.error().message);
  return url;
}

Expected<Fetched> fetch(const store::GitStore& store, std::string_view name) {
  auto url = url_of(store, name);
  if (!url) return std::unexpected(url.error());
  Fetched f{*url, store::quarantine_ref(name), std::nullopt};
  auto tip = store::fetch_main(store.git_dir(), f.url, f.ref);
  if (!tip) return std::unexpected(tip.error());
  f.tip = *tip;
  return f;
}

void drop_quarantine(const store::GitStore& store, const Fetched& f) { (void)store::delete_ref(store.git_dir(), f.ref); }

// The fetched tip must be an avow archive with our origin and genesis log key; otherwise the quarantine ref goes.
Expected<void> check_same_archive(const store::GitStore& store, const Fetched& f, const record::ArchiveConfig& ours) {
  const auto refuse = [&](std::string why) {
    drop_quarantine(store, f);
    return fail(ErrorCode::failed_precondition, "remote '{}' is not {}", f.url, why);
  };
  if (!f.tip) return refuse("an avow archive: it has no main branch");
  auto theirs = verify::read_config(store, *f.tip);
  if (!theirs) return refuse(fmt::format("an avow archive: {}", theirs.error().message));
  if (theirs->origin != ours.origin)
    return refuse(fmt::format("this archive: its origin is '{}', not '{}'", theirs->origin, ours.origin));
  if (theirs->log_vkey != ours.log_vkey)
    return refuse(fmt::format("this archive: its genesis log key is {}, not {}", theirs->log_key_id.substr(0, 16),
                              ours.log_key_id.substr(0, 16)));
  return {};
}

fs::path default_evidence_path(const store::GitStore& store, std::string_view remote) {
  std::string when = format_rfc3339_utc(now_seconds());
  std::erase(when, '-');
  std::erase(when, ':');
  return store.git_dir() / "avow" / "evidence" / fmt::format("{}-{}.json", when, remote);
}

// One side of a possible split view: a commit and its checkpoint.
struct Side {
  store::Oid commit;
  std::string note;
  log::Checkpoint checkpoint;
  std::string source;
};

// Build the split-view evidence of two sides whose logs may not agree, with the proof from the larger side's tiles;
// nullopt when it proves nothing (the logs agree, or the larger side's tiles do not match its own checkpoint).
Expected<std::optional<SplitViewEvidence>> split_view(const store::GitStore& store, const Side& x, const Side& y,
                                                     const log::Verifier& log_key, std::string detail) {
  const bool x_first = x.checkpoint.size <= y.checkpoint.size;
  const Side& a = x_first ? x : y;
  const Side& b = x_first ? y : x;
  SplitViewEvidence e;
  e.origin = a.checkpoint.origin;
  e.log_key = log::vkey(log_key.name, log_key.key);
  e.a = {a.note, a.source};
  e.b = {b.note, b.source};
  e.detected = format_rfc3339_utc(now_seconds());
  e.detail = std::move(detail);
  if (a.checkpoint.size < b.checkpoint.size && a.checkpoint.size > 0) {
    const log::TileReader read = detail::tile_reader(store, b.commit);
    auto proof = log::consistency_proof_from_tiles(a.checkpoint.size, b.checkpoint.size, b.checkpoint.size, read);
    if (!proof) return std::optional<SplitViewEvidence>{};
    if (std::has_single_bit(a.checkpoint.size)) {
      auto first = log::root_from_tiles(a.checkpoint.size, b.checkpoint.size, read);
      if (!first) return std::optional<SplitViewEvidence>{};
      e.proof.push_back(*first);
    }
    e.proof.insert(e.proof.end(), proof->begin(), proof->end());
  }
  auto verdict = verify_evidence(e, e.log_key);
  if (!verdict) return std::unexpected(verdict.error());
  if (!verdict->proven) return std::optional<SplitViewEvidence>{};
  return std::optional<SplitViewEvidence>{std::move(e)};
}

Expected<fs::path> write_evidence(const store::GitStore& store, const SplitViewEvidence& e, std::string_view remote,
                                  const std::optional<fs::path>& chosen) {
  const fs::path path = chosen.value_or(default_evidence_path(store, remote));
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  auto text = format_evidence(e);
  if (!text) return std::unexpected(text.error());
  if (auto ok = write_file_atomic(path, *text, FileMode::public_0644, Overwrite::yes); !ok) return std::unexpected(ok.error());
  return path;
}

// Our side: main, its checkpoint verified with the log key in force.
Expected<Side> our_side(const Archive::Impl& impl, const store::Oid& head, log::Verifier& log_key) {
  auto cp = detail::read_keyed_checkpoint(impl, head);
  if (!cp) return std::unexpected(cp.error());
  log_key = cp->log_key;
  return Side{head, cp->signed_checkpoint.note, cp->signed_checkpoint.checkpoint, "local"};
}

// The remote's side: its checkpoint must be signed by our log key in force to be evidence of anything.
std::optional<Side> their_side(const store::GitStore& store, const Fetched& f, const log::Verifier& log_key,
                               std::string_view origin) {
  auto note = store.read(*f.tip, record::k_checkpoint_path);
  if (!note) return std::nullopt;
  const log::Verifier known[] = {log_key};
  auto cp = log::open_checkpoint(*note, origin, known);
  if (!cp) return std::nullopt;
  return Side{*f.tip, *note, *cp, f.url};
}

// Our main and the fetched tip fork (neither contains the other), or the tip's log is not a consistent extension of
// ours: write the evidence when it proves a split view. Returns the evidence path, or nullopt with `why` set.
Expected<std::optional<fs::path>> record_fork(const Archive::Impl& impl, const store::GitStore& store, const Fetched& f,
                                             std::string_view remote, const std::optional<fs::path>& chosen,
                                             std::string& why) {
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  log::Verifier log_key;
  auto ours = our_side(impl, **head, log_key);
  if (!ours) return std::unexpected(ours.error());
  auto theirs = their_side(store, f, log_key, impl.config.origin);
  if (!theirs) {
    why = "its checkpoint is not signed by this archive's log key in force";
    return std::optional<fs::path>{};
  }
  auto e = split_view(store, *ours, *theirs, log_key,
                      fmt::format("remote '{}' holds a log (size {}) that does not extend this copy's (size {}), or the "
                                  "other way round", f.url, theirs->checkpoint.size, ours->checkpoint.size));
  if (!e) return std::unexpected(e.error());
  if (!*e) {
    why = "its log is consistent with this copy's, but its commits are not";
    return std::optional<fs::path>{};
  }
  auto path = write_evidence(store, **e, remote, chosen);
  if (!path) return std::unexpected(path.error());
  return std::optional<fs::path>{*path};
}

Expected<bool> ancestor(const store::GitStore& store, const store::Oid& a, const store::Oid& d) {
  return store::is_ancestor(store.git_dir(), a, d);
}

} // namespace

Expected<void> Archive::remote_add(std::string_view name, std::string_view url) {
  return store::remote_add(m_impl->store.git_dir(), name, url);
}

Expected<std::vector<RemoteEntry>> Archive::remotes() const {
  auto list = store::remote_list(m_impl->store.git_dir());
  if (!list) return std::unexpected(list.error());
  std::vector<RemoteEntry> out;
  for (auto& r : *list) out.push_back({std::move(r.name), std::move(r.url)});
  return out;
}

Expected<PullResult> Archive::pull(std::string_view name, const PullOptions& options) {
  const fs::path git_dir = m_impl->store.git_dir();
  const auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  const auto fetch_start = std::chrono::steady_clock::now();
  auto f = fetch(m_impl->store, name);
  if (!f) return std::unexpected(f.error());
  const double fetch_seconds = seconds_since(fetch_start);
  // A fresh handle sees the objects the fetch wrote.
  auto opened = store::GitStore::open(m_impl->dir);
  if (!opened) return std::unexpected(opened.error());
  const store::GitStore& store = *opened;
  if (auto ok = check_same_archive(store, *f, m_impl->config); !ok) return std::unexpected(ok.error());
  PullResult r;
  r.remote = std::string(name);
  r.url = f->url;
  r.remote_commit = f->tip->hex();
  r.fetch_seconds = fetch_seconds;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  const store::Oid ours = **head;
  const store::Oid tip = *f->tip;
  r.old_commit = r.new_commit = ours.hex();
  auto behind = ancestor(store, tip, ours);
  if (!behind) return std::unexpected(behind.error());
  if (*behind) {
    drop_quarantine(store, *f);
    return r;
  }
  auto ahead = ancestor(store, ours, tip);
  if (!ahead) return std::unexpected(ahead.error());
  if (!*ahead) {
    std::string why;
    auto evidence = record_fork(*m_impl, store, *f, name, options.evidence_file, why);
    if (!evidence) return std::unexpected(evidence.error());
    r.evidence_file = *evidence;
    r.status = *evidence ? PullResult::Status::split_view : PullResult::Status::refused;
    r.detail = *evidence ? "the remote's log does not extend this copy's: a split view, signed by the log key"
                         : fmt::format("the remote's history does not contain this copy's main: {}", why);
    return r;
  }
  verify::Options vopts;
  vopts.jobs = options.jobs;
  vopts.progress = options.progress;
  const auto verify_start = std::chrono::steady_clock::now();
  auto report = verify::verify_extension(store, ours, tip, vopts);
  if (!report) return std::unexpected(report.error());
  r.verify_seconds = seconds_since(verify_start);
  r.old_size = report->old_size;
  r.new_size = report->new_size;
  r.commits_verified = report->commits;
  r.entries_verified = report->entries;
  r.texts_verified = report->texts;
  r.tiles_compared = report->tiles;
  if (report->inconsistent) {
    std::string why;
    auto evidence = record_fork(*m_impl, store, *f, name, options.evidence_file, why);
    if (!evidence) return std::unexpected(evidence.error());
    if (*evidence) {
      r.evidence_file = *evidence;
      r.status = PullResult::Status::split_view;
      r.detail = "the remote's signed checkpoint is not a consistent extension of this copy's: a split view";
      r.problems = std::move(report->problems);
      return r;
    }
  }
  {
    std::vector<std::string> notices;
    auto idx = detail::fresh_index(*m_impl, ours, notices);
    if (idx)
      detail::check_against_index(*idx, *report);
    else
      report->problems.push_back({"io", std::nullopt, std::nullopt, std::nullopt,
                                  fmt::format("cannot check the new entries against this copy's: {}", idx.error().message),
                                  {}});
  }
  if (!report->ok()) {
    r.status = PullResult::Status::refused;
    r.detail = fmt::format("the remote's new commits fail verification ({} problems)", report->problems.size());
    r.problems = std::move(report->problems);
    return r;
  }
  // Verified: move main under the writer lock, by compare-and-swap from what we verified against.
  auto lock = store::WriterLock::acquire(git_dir, options.lock_timeout);
  if (!lock) return std::unexpected(lock.error());
  if (auto ok = store::move_ref(git_dir, "refs/heads/main", tip, ours, "avow pull"); !ok) return std::unexpected(ok.error());
  detail::remember_seen_checkpoint(store, report->new_checkpoint);
  drop_quarantine(store, *f);
  r.status = PullResult::Status::updated;
  r.new_commit = tip.hex();
  return r;
}

Expected<PushResult> Archive::push(std::string_view name, const PullOptions& options) {
  auto f = fetch(m_impl->store, name);
  if (!f) return std::unexpected(f.error());
  auto opened = store::GitStore::open(m_impl->dir);
  if (!opened) return std::unexpected(opened.error());
  const store::GitStore& store = *opened;
  PushResult r;
  r.remote = std::string(name);
  r.url = f->url;
  auto head = store.head();
  if (!head) return std::unexpected(head.error());
  const store::Oid ours = **head;
  r.commit = ours.hex();
  auto cp = detail::read_keyed_checkpoint(*m_impl, ours);
  if (!cp) return std::unexpected(cp.error());
  r.size = cp->signed_checkpoint.checkpoint.size;
  if (f->tip) {
    if (auto ok = check_same_archive(store, *f, m_impl->config); !ok) return std::unexpected(ok.error());
    const store::Oid tip = *f->tip;
    r.remote_commit = tip.hex();
    if (tip == ours) {
      drop_quarantine(store, *f);
      r.status = PushResult::Status::up_to_date;
      return r;
    }
    auto behind = ancestor(store, tip, ours);
    if (!behind) return std::unexpected(behind.error());
    if (!*behind) {
      auto ahead = ancestor(store, ours, tip);
      if (!ahead) return std::unexpected(ahead.error());
      if (*ahead) {
        drop_quarantine(store, *f);
        return fail(ErrorCode::failed_precondition, "remote is ahead: run avow pull {}", name);
      }
      std::string why;
      auto evidence = record_fork(*m_impl, store, *f, name, options.evidence_file, why);
      if (!evidence) return std::unexpected(evidence.error());
      r.evidence_file = *evidence;
      r.status = *evidence ? PushResult::Status::split_view : PushResult::Status::refused;
      r.detail = *evidence ? "the remote's log and this copy's fork: a split view, signed by the log key"
                           : fmt::format("the remote's history and this copy's fork: {}", why);
      return r;
    }
  }
  if (auto ok = store::push_main(store.git_dir(), f->url, ours, f->tip); !ok) return std::unexpected(ok.error());
  if (f->tip) drop_quarantine(store, *f);
  r.status = PushResult::Status::pushed;
  return r;
}

Expected<CloneResult> Archive::clone(const CloneOptions& options) {
  std::error_code ec;
  const bool existed = fs::exists(options.dir, ec);
  if (existed && (!fs::is_directory(options.dir, ec) || !fs::is_empty(options.dir, ec)))
    return fail(ErrorCode::already_exists, "cannot clone into '{}': it exists and is not an empty folder",
                options.dir.string());
  // A local path is kept absolute, so the clone's origin works from any folder.
  std::string url = options.url;
  if (url.find("://") == std::string::npos && fs::exists(url, ec)) url = fs::absolute(url).lexically_normal().string();
  const auto cleanup = [&] {
    std::error_code ignored;
    if (existed) {
      for (const auto& e : fs::directory_iterator(options.dir, ignored)) fs::remove_all(e.path(), ignored);
    } else {
      fs::remove_all(options.dir, ignored);
    }
  };
  auto result = [&]() -> Expected<CloneResult> {
    auto store = store::GitStore::init(options.dir);
    if (!store) return std::unexpected(store.error());
    const std::string ref = store::quarantine_ref("origin");
    auto tip = store::fetch_main(store->git_dir(), url, ref);
    if (!tip) return std::unexpected(tip.error());
    if (!*tip) return fail(ErrorCode::failed_precondition, "remote '{}' is not an avow archive: it has no main branch", url);
    auto opened = store::GitStore::open(options.dir);
    if (!opened) return std::unexpected(opened.error());
    if (auto config = verify::read_config(*opened, **tip); !config)
      return fail(ErrorCode::failed_precondition, "remote '{}' is not an avow archive: {}", url, config.error().message);
    CloneResult r;
    r.dir = options.dir;
    r.url = url;
    r.commit = (*tip)->hex();
    verify::Options vopts;
    vopts.jobs = options.jobs;
    vopts.tip = **tip;
    vopts.progress = options.progress;
    auto report = verify::run(*opened, vopts);
    if (!report) return std::unexpected(report.error());
    r.report = std::move(*report);
    if (!r.report.ok()) return r;
    if (auto ok = store::move_ref(opened->git_dir(), "refs/heads/main", **tip, std::nullopt, "avow clone"); !ok)
      return std::unexpected(ok.error());
    if (auto ok = store::remote_add(opened->git_dir(), "origin", url); !ok) return std::unexpected(ok.error());
    (void)store::delete_ref(opened->git_dir(), ref);
    detail::remember_seen_checkpoint(*opened, r.report.checkpoint);
    r.ok = true;
    return r;
  }();
  if (!result || !result->ok) cleanup();
  return result;
}

} // namespace avow
