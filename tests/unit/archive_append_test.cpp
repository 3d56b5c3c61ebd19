// The stages of Archive::append (archive/archive_append.hpp) on their own: prepare, resolve_revisions with the
// archive's answers given as a table of index rows, and the progress meter.

#include <archive/archive_append.hpp>

#include <archive/record/record.hpp>
#include <tests/support/support.hpp>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace avow {
namespace {

namespace fs = std::filesystem;

const std::string k_archivist(64, 'a');
const std::string k_captured = "2026-01-02T03:04:05Z";

StatementInput input(std::string label, std::string text, std::string source) {
  StatementInput in;
  in.label = std::move(label);
  in.bytes = std::move(text);
  in.source = std::move(source);
  return in;
}

detail::Prepared prepared(const StatementInput& in) {
  auto p = detail::prepare(in, k_archivist, k_captured, false);
  EXPECT_TRUE(p) << p.error().message;
  return std::move(*p);
}

// The log as resolve_revisions sees it: statement rows by source, oldest first.
struct Log {
  std::vector<index::Row> rows;
  void add(const StatementInput& in) {
    const auto p = prepared(in);
    index::Row r;
    r.index = rows.size() + 1;
    r.id = p.id;
    r.kind = "statement";
    r.source = in.source;
    r.text_sha256 = p.text_sha;
    rows.push_back(r);
  }
  detail::RevisionLookup lookup() const {
    return {[this](const std::string& source) -> Expected<std::optional<index::Row>> {
              std::optional<index::Row> last;
              for (const auto& r : rows)
                if (r.source == source) last = r;
              return last;
            },
            [this](const std::string& id) -> Expected<std::optional<index::Row>> {
              for (const auto& r : rows)
                if (r.id == id) return r;
              return std::optional<index::Row>{};
            },
            [this](const std::string& source) -> Expected<std::vector<index::Row>> {
              std::vector<index::Row> out;
              for (const auto& r : rows)
                if (r.source == source) out.push_back(r);
              return out;
            },
            [](const index::Row&) { return true; }};
  }
};

struct Resolved {
  Expected<detail::RevisionPlan> plan;
  std::vector<detail::Prepared> prepared;
  std::vector<std::string> notices;
  std::vector<std::string> reprepared; // labels
};

Resolved resolve(const std::vector<StatementInput>& inputs, const Log& log, bool recapture = false,
                 detail::RevisionMemory* memory = nullptr) {
  Resolved r{std::unexpected(Error{}), {}, {}, {}};
  detail::RevisionMemory own;
  for (const auto& in : inputs) r.prepared.push_back(prepared(in));
  const auto reprepare = [&](const StatementInput& in) {
    r.reprepared.push_back(in.label);
    return detail::prepare(in, k_archivist, k_captured, false);
  };
  r.plan = detail::resolve_revisions(inputs, r.prepared, log.lookup(), reprepare, recapture, r.notices,
                                     memory ? *memory : own);
  return r;
}

TEST(AppendStages, PrepareBuildsTheRecordOfTheCanonicalText) {
  const auto p = prepared(input("a.txt", "Hello\r\nworld\r\n", "https://example.org/a"));
  EXPECT_EQ(p.canonical, "Hello\nworld\n");
  ASSERT_TRUE(p.original_sha); // the bytes differ from the canonical text: the original is kept
  auto st = record::parse_payload(p.payload);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->text.sha256, p.text_sha);
  EXPECT_EQ(st->text.bytes, p.canonical.size());
  EXPECT_EQ(st->archivist, k_archivist);
  EXPECT_EQ(st->captured, k_captured);
  EXPECT_EQ(p.id, record::record_id(p.payload));
}

TEST(AppendStages, PrepareRefusesPrivateKeyMaterial) {
  auto p = detail::prepare(input("k.txt", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
                                 "https://example.org/k"),
                           k_archivist, k_captured, false);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::invalid_input);
  EXPECT_NE(p.error().message.find("private keys are never archived"), std::string::npos) << p.error().message;
}

TEST(AppendStages, NewSourcesAreKeptWithoutNotes) {
  Log log;
  auto r = resolve({input("1", "One.\n", "urn:a"), input("2", "Two.\n", "urn:b")}, log);
  ASSERT_TRUE(r.plan) << r.plan.error().message;
  EXPECT_EQ(r.plan->kept, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(r.plan->notes, (std::vector<std::vector<std::string>>{{}, {}}));
  EXPECT_TRUE(r.notices.empty());
  EXPECT_TRUE(r.reprepared.empty());
}

TEST(AppendStages, SameTextFromSameSourceIsDroppedUnlessRecaptured) {
  Log log;
  log.add(input("old", "Same.\n", "urn:a"));
  const std::string old_id = log.rows[0].id;
  auto r = resolve({input("new", "Same.\n", "urn:a")}, log);
  ASSERT_TRUE(r.plan);
  EXPECT_TRUE(r.plan->kept.empty());
  EXPECT_EQ(r.notices, (std::vector<std::string>{"'new': this text from this source is already archived as " + old_id +
                                                 "; nothing recorded (use --recapture to record a new capture)"}));
  // Recaptured in the same second, the record is identical: one entry per record id still holds.
  auto again = resolve({input("new", "Same.\n", "urn:a")}, log, /*recapture=*/true);
  ASSERT_TRUE(again.plan);
  EXPECT_TRUE(again.plan->kept.empty());
  EXPECT_EQ(again.notices, (std::vector<std::string>{"'new': already recorded as " + old_id +
                                                     " (same statement, same capture second); nothing recorded"}));
}

TEST(AppendStages, NewTextSupersedesTheLatestVersion) {
  Log log;
  log.add(input("v1", "First.\n", "urn:a"));
  const std::string v1 = log.rows[0].id;
  auto r = resolve({input("v2", "Second.\n", "urn:a")}, log);
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(r.plan->kept, (std::vector<std::size_t>{0}));
  EXPECT_EQ(r.reprepared, (std::vector<std::string>{"v2"}));
  EXPECT_EQ(r.plan->notes[0], (std::vector<std::string>{"supersedes " + v1 + ", the previous version from this source"}));
  auto st = record::parse_payload(r.prepared[0].payload);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->supersedes, v1);
}

TEST(AppendStages, ARevertNamesTheOlderVersion) {
  Log log;
  log.add(input("v1", "Alpha.\n", "urn:a"));
  log.add(input("v2", "Beta.\n", "urn:a"));
  auto r = resolve({input("v3", "Alpha.\n", "urn:a")}, log);
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(r.plan->kept, (std::vector<std::size_t>{0}));
  EXPECT_EQ(r.plan->notes[0],
            (std::vector<std::string>{"supersedes " + log.rows[1].id + ", the previous version from this source",
                                      "same text as version 1 (record " + log.rows[0].id + ")"}));
}

TEST(AppendStages, VersionsWithinOneBatchChain) {
  Log log;
  auto r = resolve({input("1", "A.\n", "urn:a"), input("2", "B.\n", "urn:a"), input("3", "B.\n", "urn:a")}, log);
  ASSERT_TRUE(r.plan);
  EXPECT_EQ(r.plan->kept, (std::vector<std::size_t>{0, 1}));
  auto st = record::parse_payload(r.prepared[1].payload);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->supersedes, r.prepared[0].id);
  ASSERT_EQ(r.notices.size(), 1u);
  EXPECT_EQ(r.notices[0], "'3': this text from this source is already archived as " + r.prepared[1].id +
                              "; nothing recorded (use --recapture to record a new capture)");
}

// A large batch is resolved a window at a time: what one window kept is known to the next through the memory, as if
// the inputs were one list (the same chain as above, cut after each input).
TEST(AppendStages, VersionsChainAcrossWindows) {
  Log log;
  detail::RevisionMemory memory;
  auto r1 = resolve({input("1", "A.\n", "urn:a")}, log, false, &memory);
  auto r2 = resolve({input("2", "B.\n", "urn:a")}, log, false, &memory);
  auto r3 = resolve({input("3", "B.\n", "urn:a"), input("4", "A.\n", "urn:b")}, log, false, &memory);
  ASSERT_TRUE(r1.plan && r2.plan && r3.plan);
  EXPECT_EQ(r2.plan->kept, (std::vector<std::size_t>{0}));
  auto st = record::parse_payload(r2.prepared[0].payload);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->supersedes, r1.prepared[0].id);
  EXPECT_EQ(r3.plan->kept, (std::vector<std::size_t>{1}));
  ASSERT_EQ(r3.notices.size(), 1u);
  EXPECT_EQ(r3.notices[0], "'3': this text from this source is already archived as " + r2.prepared[0].id +
                               "; nothing recorded (use --recapture to record a new capture)");
  // An explicit supersedes may name a record an earlier window kept (it is not in the log yet).
  StatementInput again = input("5", "C.\n", "urn:a");
  again.supersedes = r2.prepared[0].id;
  auto r4 = resolve({again}, log, false, &memory);
  ASSERT_TRUE(r4.plan) << r4.plan.error().message;
  EXPECT_EQ(r4.plan->kept, (std::vector<std::size_t>{0}));
  // Without the memory the second window knows nothing of the first.
  auto alone = resolve({input("2", "B.\n", "urn:a")}, log);
  ASSERT_TRUE(alone.plan);
  EXPECT_TRUE(alone.plan->notes[0].empty());
}

TEST(AppendStages, UnknownSupersedesIsInvalidInput) {
  Log log;
  auto in = input("x", "Text.\n", "urn:a");
  in.supersedes = std::string(64, 'b');
  auto r = resolve({in}, log);
  ASSERT_FALSE(r.plan);
  EXPECT_EQ(r.plan.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(r.plan.error().message, "'x': supersedes names no statement in this archive: " + std::string(64, 'b'));
}

TEST(AppendStages, SupersedesOfAnotherSourceIsInvalidInput) {
  Log log;
  log.add(input("old", "Old.\n", "urn:a"));
  auto in = input("x", "New.\n", "urn:b");
  in.supersedes = log.rows[0].id;
  auto r = resolve({in}, log);
  ASSERT_FALSE(r.plan);
  EXPECT_EQ(r.plan.error().code, ErrorCode::invalid_input);
  EXPECT_EQ(r.plan.error().message, "'x': supersedes " + log.rows[0].id +
                                        ", a statement of another source (urn:a); a new version must have the same source");
  // The same within one batch: the target is an earlier input.
  const auto first = input("1", "One.\n", "urn:c");
  auto second = input("2", "Two.\n", "urn:d");
  second.supersedes = prepared(first).id;
  r = resolve({first, second}, log);
  ASSERT_FALSE(r.plan);
  EXPECT_EQ(r.plan.error().message, "'2': supersedes " + *second.supersedes +
                                        ", a statement of another source (urn:c); a new version must have the same source");
}

TEST(AppendStages, ExplicitSupersedesOfTheSameSourceIsKept) {
  Log log;
  log.add(input("v1", "One.\n", "urn:a"));
  log.add(input("v2", "Two.\n", "urn:a"));
  auto in = input("x", "Three.\n", "urn:a");
  in.supersedes = log.rows[0].id; // an older version, named on purpose
  auto r = resolve({in}, log);
  ASSERT_TRUE(r.plan) << r.plan.error().message;
  EXPECT_EQ(r.plan->kept, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(r.reprepared.empty()); // an explicit link is kept as given
  auto st = record::parse_payload(r.prepared[0].payload);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->supersedes, log.rows[0].id);
}

TEST(AppendStages, ProgressMeterReportsMonotonicallyAndFinishesOnce) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  const Progress progress = [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); };
  detail::ProgressMeter meter(progress, 2000, 1000);
  for (int i = 0; i < 2000; ++i) meter.add();
  meter.finish();
  ASSERT_GE(calls.size(), 100u);
  ASSERT_LE(calls.size(), 202u);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, 1000u);
    if (i > 0) {
      EXPECT_GE(calls[i].first, calls[i - 1].first);
    }
    if (i + 1 < calls.size()) {
      EXPECT_LT(calls[i].first, 1000u); // done == total only from finish()
    }
  }
  EXPECT_EQ(calls.back(), (std::pair<std::uint64_t, std::uint64_t>{1000, 1000}));
}

// A new archive in `t` (its keys beside it), opened.
Expected<Archive> new_archive(const test::TempDir& t, const std::string& origin) {
  InitOptions init;
  init.dir = t / "archive";
  init.origin = origin;
  init.key_dir = t / "keys";
  if (auto ok = Archive::init(init); !ok) return std::unexpected(ok.error());
  return Archive::open(init.dir);
}

TEST(AppendStages, BatchReportsProgressAndFinishesAfterTheCommit) {
  test::TempDir t;
  auto archive = new_archive(t, "progress.avow.example/log");
  ASSERT_TRUE(archive) << archive.error().message;
  std::vector<StatementInput> inputs;
  for (int i = 0; i < 600; ++i)
    inputs.push_back(input("line " + std::to_string(i), "Statement number " + std::to_string(i) + ".\n",
                           "urn:progress:" + std::to_string(i)));
  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  AppendOptions options;
  options.jobs = 2;
  options.progress = [&](std::uint64_t done, std::uint64_t total) { calls.emplace_back(done, total); };
  auto r = archive->append(inputs, options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->records.size(), 600u);
  EXPECT_EQ(r->tree_size, 601u);
  ASSERT_GE(calls.size(), 10u); // the bar moves during the batch, not only at the end
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, 600u);
    if (i > 0) {
      EXPECT_GE(calls[i].first, calls[i - 1].first);
    }
  }
  EXPECT_LT(calls[calls.size() - 2].first, 600u);
  EXPECT_EQ(calls.back(), (std::pair<std::uint64_t, std::uint64_t>{600, 600}));
}

// A write lists the archive's objects before it stages anything when it is large against the log (4,096 statements,
// and 1/128 of the log): each new text is then known new from memory, not by searching the index of every pack.
// A batch run again adds nothing, whatever the order of its lines: each line the index says is archived is confirmed
// against the signed log's entry (read from the last few entry bundles kept, here 2,600 entries in 11 bundles visited
// out of order, more than are kept); a wrong entry would make the index look lying, and the write fail once rebuilt.
TEST(AppendStages, ABatchRunAgainAddsNothingWhateverTheOrderOfItsLines) {
  test::TempDir t;
  auto archive = new_archive(t, "again.avow.example/log");
  ASSERT_TRUE(archive) << archive.error().message;
  std::vector<StatementInput> inputs;
  for (int i = 0; i < 2600; ++i)
    inputs.push_back(input("line " + std::to_string(i), "Statement again " + std::to_string(i) + ".\n",
                           "urn:again:" + std::to_string(i)));
  auto first = archive->append(inputs, AppendOptions{});
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->records.size(), 2600u);
  std::vector<StatementInput> shuffled;
  for (int i = 0; i < 2600; ++i) shuffled.push_back(inputs[static_cast<std::size_t>(i * 797 % 2600)]);
  auto again = archive->append(shuffled, AppendOptions{});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->records.size(), 0u);
  EXPECT_EQ(again->tree_size, 2601u);
  EXPECT_EQ(std::count_if(again->notices.begin(), again->notices.end(),
                          [](const std::string& n) { return n.find("disagreed") != std::string::npos; }),
            0);
}

TEST(AppendStages, ALargeWriteAgainstTheLogListsTheObjectsFirst) {
  EXPECT_FALSE(detail::lists_objects_first(0, 4095));
  EXPECT_TRUE(detail::lists_objects_first(0, 4096));
  EXPECT_TRUE(detail::lists_objects_first(524288, 4096));
  EXPECT_FALSE(detail::lists_objects_first(524289, 4096));
  EXPECT_TRUE(detail::lists_objects_first(1000000, 200000));
  EXPECT_FALSE(detail::lists_objects_first(10000000, 50000));
}

// A batch that lists the objects first (4,096 statements onto 301 entries) stores each text once: the 300 whose texts
// the archive already holds (new sources, same words) name the blobs on disk, which no pack gets a second time.
TEST(AppendStages, ALargeBatchWritesOnlyTheTextsTheArchiveLacks) {
  test::TempDir t;
  const auto dir = t / "archive";
  auto archive = new_archive(t, "filter.avow.example/log");
  ASSERT_TRUE(archive) << archive.error().message;
  const auto text = [](int i) { return "Statement number " + std::to_string(i) + " of the filter test.\n"; };
  std::vector<StatementInput> inputs;
  for (int i = 0; i < 300; ++i) inputs.push_back(input("a" + std::to_string(i), text(i), "urn:first:" + std::to_string(i)));
  AppendOptions options;
  options.jobs = 2;
  auto r = archive->append(inputs, options);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->tree_size, 301u);
  ASSERT_FALSE(detail::lists_objects_first(1, 300));
  ASSERT_TRUE(detail::lists_objects_first(301, 4096));

  inputs.clear();
  for (int i = 0; i < 4096; ++i) inputs.push_back(input("b" + std::to_string(i), text(i), "urn:second:" + std::to_string(i)));
  r = archive->append(inputs, options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->tree_size, 301u + 4096u);

  const auto counts = test::run_process({"git", "-C", dir.string(), "count-objects", "-v"});
  ASSERT_EQ(counts.exit_code, 0);
  const std::size_t at = counts.out.find("in-pack: ");
  ASSERT_NE(at, std::string::npos);
  const auto all = test::run_process({"git", "-C", dir.string(), "cat-file", "--batch-all-objects", "--batch-check"});
  ASSERT_EQ(all.exit_code, 0);
  EXPECT_EQ(std::stoul(counts.out.substr(at + 9)), static_cast<std::size_t>(std::count(all.out.begin(), all.out.end(), '\n')))
      << "an object was written twice";
  const auto texts = test::run_process({"git", "-C", dir.string(), "ls-tree", "-r", "--name-only", "main", "texts"});
  ASSERT_EQ(texts.exit_code, 0);
  EXPECT_EQ(std::count(texts.out.begin(), texts.out.end(), '\n'), 4096); // 300 + 3,796 new texts
}

// The index a write feeds while it goes on (detail::IndexFeeder): its records are in the index, with the checkpoint,
// only once finish() is given the new checkpoint; until then readers see the index as it was. Abandoned, or unable to
// take the index lock, it leaves the index as it was, says false, and never holds up the write's put().
struct FedRecord {
  std::string id, payload, text;
};
std::vector<FedRecord> fed_records(int n, std::size_t text_bytes = 0) {
  std::vector<FedRecord> out;
  for (int i = 0; i < n; ++i) {
    std::string text = "Fed statement " + std::to_string(i) + ".\n";
    if (text_bytes > text.size()) text += std::string(text_bytes - text.size() - 1, 'w') + "\n";
    const auto p = prepared(input("l" + std::to_string(i), text, "urn:feed:" + std::to_string(i)));
    out.push_back({p.id, p.payload, p.canonical});
  }
  return out;
}

TEST(IndexFeeder, CommitsItsRecordsWithTheCheckpointAtFinish) {
  test::TempDir t;
  const auto file = t / "index.sqlite";
  ASSERT_TRUE(index::Index::open(file));
  const auto records = fed_records(5);
  detail::IndexFeeder feeder(file, 0, records.size());
  for (const auto& r : records) feeder.put(r.id, r.payload, r.text);
  auto reader = index::Index::open(file);
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_EQ(reader->size().value(), 0u); // not before the commit stands
  EXPECT_EQ(reader->indexed_checkpoint().value(), std::nullopt);
  ASSERT_TRUE(feeder.finish("checkpoint note 5\n"));
  EXPECT_EQ(reader->size().value(), 5u);
  EXPECT_EQ(reader->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 5\n"));
  for (std::uint64_t i = 0; i < records.size(); ++i) {
    auto rows = reader->by_id_prefix(records[i].id);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].index, i);
    EXPECT_EQ((*rows)[0].source, "urn:feed:" + std::to_string(i));
  }
  index::Filter grep;
  grep.grep = "Fed";
  EXPECT_EQ(reader->count(grep).value(), 5u);
  EXPECT_TRUE(feeder.finish("again\n")); // the first end stands
  EXPECT_EQ(reader->indexed_checkpoint().value(), std::optional<std::string>("checkpoint note 5\n"));
}

TEST(IndexFeeder, AbandonedItLeavesTheIndexAsItWas) {
  test::TempDir t;
  const auto file = t / "index.sqlite";
  ASSERT_TRUE(index::Index::open(file));
  const auto records = fed_records(3);
  {
    detail::IndexFeeder feeder(file, 0, 3);
    for (const auto& r : records) feeder.put(r.id, r.payload, r.text);
    feeder.abandon();
    feeder.put(records[0].id, records[0].payload, records[0].text); // taken no more
    EXPECT_FALSE(feeder.finish("note\n"));
  }
  {
    detail::IndexFeeder feeder(file, 0, 3); // destroyed without finish: the write failed
    for (const auto& r : records) feeder.put(r.id, r.payload, r.text);
  }
  {
    detail::IndexFeeder feeder(file, 0, 3);
    EXPECT_FALSE(feeder.finish("")); // no checkpoint: nothing committed
  }
  auto idx = index::Index::open(file);
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->size().value(), 0u);
  EXPECT_EQ(idx->indexed_checkpoint().value(), std::nullopt);
  // Numbered from where the index is: a feeder that starts elsewhere fails, and the index stays as it was.
  detail::IndexFeeder wrong(file, 7, 3);
  for (const auto& r : records) wrong.put(r.id, r.payload, r.text);
  EXPECT_FALSE(wrong.finish("note\n"));
  EXPECT_EQ(idx->size().value(), 0u);
}

TEST(IndexFeeder, WithoutTheIndexLockItGivesUpAndNeverHoldsUpTheWrite) {
  test::TempDir t;
  const auto file = t / "index.sqlite";
  ASSERT_TRUE(index::Index::open(file));
  auto held = index::IndexLock::acquire(file, std::chrono::milliseconds(0)); // a reader following on, say
  ASSERT_TRUE(held);
  // More than the queue holds: put() waits for room until the feeder gives up, then takes nothing.
  const auto records = fed_records(24, std::size_t{1} << 20);
  const auto start = std::chrono::steady_clock::now();
  detail::IndexFeeder feeder(file, 0, records.size());
  for (const auto& r : records) feeder.put(r.id, r.payload, r.text);
  EXPECT_FALSE(feeder.finish("note\n"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, detail::k_feed_lock_wait);
  auto idx = index::Index::open(file);
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->size().value(), 0u);
}

// The root page of each secondary index of the entries, read through a connection of its own: an index that was
// sorted anew (dropped and made again) has new pages.
std::map<std::string, std::int64_t> index_roots(const fs::path& file) {
  std::map<std::string, std::int64_t> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT name, rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' "
                                   "AND sql IS NOT NULL", -1, &s, nullptr),
            SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    out[reinterpret_cast<const char*>(sqlite3_column_text(s, 0))] = sqlite3_column_int64(s, 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// Wait until a writer holds the index's write lock (the feeder has begun its transaction, so it has decided how to
// add); false after 10 s.
bool writer_began(const fs::path& file) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  bool busy = false;
  for (int i = 0; i < 2000 && !busy; ++i) {
    const int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    busy = rc == SQLITE_BUSY;
    if (rc == SQLITE_OK) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    if (!busy) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sqlite3_close(db);
  return busy;
}

// Whether the feeder sorts the secondary indexes anew is decided from the records the first window kept, not from the
// number of inputs: a manifest run again (8 of its 8,192 lines new here) adds its few records to the indexes as they
// are, where ten sorts of the whole index would cost more than its write; a window that keeps what it reads still
// sorts them.
TEST(IndexFeeder, SortsTheIndexesAnewOnlyWhenTheWindowsKeepMany) {
  test::TempDir t;
  const auto file = t / "index.sqlite";
  ASSERT_TRUE(index::Index::open(file));
  const auto roots = index_roots(file);
  ASSERT_EQ(roots.size(), 10u);
  ASSERT_TRUE(index::Index::sorts_indexes(0, 8192));
  const auto records = fed_records(8 + 4096);
  {
    detail::IndexFeeder feeder(file, 0, 8192);
    for (int i = 0; i < 8; ++i) feeder.put(records[i].id, records[i].payload, records[i].text);
    feeder.window_read(4096);
    ASSERT_TRUE(writer_began(file)); // decided while the write goes on, not once it has ended
    ASSERT_TRUE(feeder.finish("note 8\n"));
  }
  EXPECT_EQ(index_roots(file), roots) << "the indexes were sorted anew for 8 records";
  {
    detail::IndexFeeder feeder(file, 8, 8192);
    for (std::size_t i = 8; i < records.size(); ++i) feeder.put(records[i].id, records[i].payload, records[i].text);
    feeder.window_read(4096);
    ASSERT_TRUE(writer_began(file));
    ASSERT_TRUE(feeder.finish("note 4104\n"));
  }
  const auto after = index_roots(file);
  ASSERT_EQ(after.size(), 10u);
  for (const auto& [name, root] : after) EXPECT_NE(root, roots.at(name)) << name << " was not sorted anew";
  auto idx = index::Index::open(file);
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->size().value(), 4104u);
  auto rows = idx->by_id_prefix(records[4000].id);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].index, 4000u);
}

// A batch whose feeder cannot take the index lock (another process follows on, say) still leaves the index current:
// it is brought along from the spool once the lock is free, as before the feeder.
TEST(IndexFeeder, ABatchWhoseFeederGaveUpBringsTheIndexAlongFromTheSpool) {
  test::TempDir t;
  auto archive = new_archive(t, "feeder.avow.example/log");
  ASSERT_TRUE(archive) << archive.error().message;
  const auto file = t / "archive" / ".git" / "avow" / "index.sqlite";
  ASSERT_TRUE(fs::exists(file));
  auto held = index::IndexLock::acquire(file, std::chrono::milliseconds(0));
  ASSERT_TRUE(held);
  std::thread release([&] {
    std::this_thread::sleep_for(detail::k_feed_lock_wait + std::chrono::milliseconds(1000));
    held = std::unexpected(Error{ErrorCode::internal, "released"});
  });
  std::vector<StatementInput> inputs;
  for (int i = 0; i < 10; ++i)
    inputs.push_back(input("l" + std::to_string(i), "Statement " + std::to_string(i) + ".\n", "urn:fb:" + std::to_string(i)));
  auto r = archive->append(inputs, AppendOptions{});
  release.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->notices, std::vector<std::string>{});
  auto idx = index::Index::open(file);
  ASSERT_TRUE(idx);
  EXPECT_EQ(idx->size().value(), 11u);
  const auto note = idx->indexed_checkpoint().value();
  ASSERT_TRUE(note);
  EXPECT_NE(note->find("feeder.avow.example/log\n11\n"), std::string::npos) << *note;
}

} // namespace
} // namespace avow
