#include "engine/journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace groundcap {
namespace {

std::string FreshPath(const std::string& name) {
  std::string dir = testing::TempDir() + "/journal_test_" + name;
  std::filesystem::remove_all(dir);
  return dir + "/.ckpt/journal.jsonl";
}

JournalEntry Ok(const std::string& id, const std::string& fp, int v) {
  JournalEntry e;
  e.id = id;
  e.fingerprint = fp;
  e.record = {{"sample_id", id}, {"v", v}, {"status", "ok"}};
  return e;
}

TEST(JournalTest, AppendFindReadAndReload) {
  std::string p = FreshPath("basic");
  {
    Journal j(p);
    j.Append(Ok("a", "f1", 1));
    JournalEntry f;
    f.id = "b";
    f.fingerprint = "f2";
    f.status = JournalStatus::kFailed;
    f.error = Error::Make(ErrorKind::kTimeout, "slow");
    f.record = {{"sample_id", "b"}, {"status", "failed"}};
    j.Append(f);
    j.Append(Ok("a", "f3", 3));  // last entry wins
  }
  Journal j(p);
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(j.loaded_lines(), 3);
  EXPECT_EQ(j.repaired_bytes(), 0);
  std::optional<JournalIndexEntry> a = j.Find("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->fingerprint, "f3");
  auto ea = j.Read(a->offset);
  ASSERT_TRUE(ea);
  EXPECT_EQ(ea->record["v"], 3);
  std::optional<JournalIndexEntry> b = j.Find("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->status, JournalStatus::kFailed);
  auto eb = j.Read(b->offset);
  ASSERT_TRUE(eb);
  ASSERT_TRUE(eb->error);
  EXPECT_EQ(eb->error->kind, ErrorKind::kTimeout);
  EXPECT_FALSE(j.Find("zzz").has_value());
}

size_t LineCount(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(JournalTest, ManySupersededEntriesAreCompactedOnOpen) {
  std::string p = FreshPath("compact");
  {
    Journal j(p);
    for (int i = 0; i < 600; ++i) j.Append(Ok("x" + std::to_string(i), "f", i));
    // Redo the first 500 three times (a retry_failed run, a changed spec...):
    // 1500 superseded entries against 600 live ones.
    for (int round = 1; round <= 3; ++round) {
      for (int i = 0; i < 500; ++i) j.Append(Ok("x" + std::to_string(i), "f", 1000 * round + i));
    }
  }
  ASSERT_EQ(LineCount(p), 1u + 2100u);
  {
    Journal j(p);
    EXPECT_EQ(j.compacted_lines(), 1500);
    EXPECT_EQ(j.size(), 600u);
    EXPECT_EQ(LineCount(p), 1u + 600u);
    EXPECT_FALSE(std::filesystem::exists(p + ".compact"));
    for (int i : {0, 499, 500, 599}) {
      std::optional<JournalIndexEntry> e = j.Find("x" + std::to_string(i));
      ASSERT_TRUE(e.has_value()) << i;
      auto read = j.Read(e->offset);
      ASSERT_TRUE(read) << read.error().message;
      EXPECT_EQ(read->record["v"], i < 500 ? 3000 + i : i);
    }
    j.Append(Ok("x0", "f", 7));  // appending still works after the swap
  }
  Journal again(p);
  EXPECT_EQ(again.compacted_lines(), 0);  // not due: 1 superseded entry
  EXPECT_EQ(again.size(), 600u);
  auto x0 = again.Read(again.Find("x0")->offset);
  ASSERT_TRUE(x0);
  EXPECT_EQ(x0->record["v"], 7);
}

TEST(JournalTest, FewSupersededEntriesAreLeftAlone) {
  std::string p = FreshPath("nocompact");
  {
    Journal j(p);
    for (int i = 0; i < 1200; ++i) j.Append(Ok("y" + std::to_string(i), "f", i));
    for (int i = 0; i < 1100; ++i) j.Append(Ok("y" + std::to_string(i), "f", -i));
  }
  Journal j(p);  // 1100 superseded but 1200 live: rewriting would not halve the file
  EXPECT_EQ(j.compacted_lines(), 0);
  EXPECT_EQ(LineCount(p), 1u + 2300u);
}

TEST(JournalTest, TornTailIsRepaired) {
  std::string p = FreshPath("torn");
  {
    Journal j(p);
    j.Append(Ok("a", "f", 1));
    j.Append(Ok("b", "f", 2));
  }
  auto size_ok = std::filesystem::file_size(p);
  std::string torn = JournalLine(Ok("c", "f", 3));
  {
    std::ofstream out(p, std::ios::app | std::ios::binary);
    out << torn.substr(0, torn.size() / 2);  // crash mid-write
  }
  {
    Journal j(p);
    EXPECT_EQ(j.size(), 2u);
    EXPECT_FALSE(j.Find("c").has_value());
    EXPECT_EQ(j.repaired_bytes(), static_cast<int64_t>(torn.size() / 2));
    EXPECT_EQ(std::filesystem::file_size(p), size_ok);
    j.Append(Ok("c", "f", 3));  // appends after the cut, on a clean line
  }
  Journal j(p);
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.repaired_bytes(), 0);
  auto c = j.Read(j.Find("c")->offset);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->record["v"], 3);
}

TEST(JournalTest, GarbageLastLineAndBadMiddleLine) {
  std::string p = FreshPath("garbage");
  {
    Journal j(p);
    j.Append(Ok("a", "f", 1));
  }
  { std::ofstream(p, std::ios::app) << "not json\n"; }
  {
    Journal j(p);
    j.Append(Ok("b", "f", 2));
  }
  { std::ofstream(p, std::ios::app) << std::string("\0\0\0\n", 4); }
  Journal j(p);
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(j.bad_lines(), 0);  // "not json" was the last line at the 2nd open: cut
  EXPECT_EQ(j.repaired_bytes(), 4);
}

TEST(JournalTest, TornHeaderAndForeignFile) {
  std::string p = FreshPath("header");
  std::filesystem::create_directories(std::filesystem::path(p).parent_path());
  { std::ofstream(p) << "{\"format\":\"groundc"; }
  {
    Journal j(p);
    EXPECT_EQ(j.size(), 0u);
    j.Append(Ok("a", "f", 1));
  }
  EXPECT_EQ(Journal(p).size(), 1u);
  std::string q = FreshPath("foreign");
  std::filesystem::create_directories(std::filesystem::path(q).parent_path());
  { std::ofstream(q) << "{\"something\":\"else\"}\n"; }
  EXPECT_THROW(Journal{q}, SetupError);
}

TEST(JournalTest, HeaderWithWrongTypesIsASetupError) {
  // value<T>() on these used to throw nlohmann's type_error instead.
  for (const char* header : {"{\"format\":\"groundcap-journal\",\"version\":\"1\"}\n",
                             "{\"format\":7,\"version\":1}\n"}) {
    std::string p = FreshPath("typed_header");
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    { std::ofstream(p) << header; }
    EXPECT_THROW(Journal{p}, SetupError) << header;
  }
}

uint64_t OneBucket(std::string_view) { return 42; }
uint64_t ByLength(std::string_view id) { return id.size(); }

TEST(JournalTest, IdsWhoseHashesCollideStayApart) {
  // The index keeps a hash of each id and confirms it against the line on
  // disk: with every id hashing alike, lookups, replacements, reloads and
  // compaction must still see each id's own last entry.
  constexpr int kIds = 400;  // every lookup reads up to kIds lines: quadratic by design
  for (JournalIdHash hash : {&OneBucket, &ByLength}) {
    std::string p = FreshPath("collide");
    {
      Journal j(p, 1.0, hash);
      for (int i = 0; i < kIds; ++i) j.Append(Ok("id" + std::to_string(i), "0123456789abcdef", i));
      for (int i = 0; i < kIds; i += 3) j.Append(Ok("id" + std::to_string(i), "fedcba9876543210", -i));
      EXPECT_EQ(j.size(), static_cast<size_t>(kIds));
      EXPECT_FALSE(j.Find("id400").has_value());
      EXPECT_FALSE(j.Find("id").has_value());
      std::optional<JournalIndexEntry> e = j.Find("id3");
      ASSERT_TRUE(e.has_value());
      EXPECT_EQ(e->fingerprint, "fedcba9876543210");
      EXPECT_EQ(j.Read(e->offset)->record["v"], -3);
    }
    for (int again = 0; again < 2; ++again) {
      Journal j(p, 1.0, hash);
      EXPECT_EQ(j.size(), static_cast<size_t>(kIds));
      for (int i : {0, 1, 2, 3, 398, 399}) {
        std::optional<JournalIndexEntry> e = j.Find("id" + std::to_string(i));
        ASSERT_TRUE(e.has_value()) << i;
        EXPECT_EQ(e->fingerprint, i % 3 ? "0123456789abcdef" : "fedcba9876543210") << i;
        EXPECT_EQ(j.Read(e->offset)->record["v"], i % 3 ? i : -i) << i;
      }
      // Many superseded entries: the second open compacts.
      if (again == 0) {
        for (int round = 0; round < 3; ++round) {
          for (int i = 0; i < kIds; ++i) j.Append(Ok("id" + std::to_string(i), "0123456789abcdef", i));
        }
        for (int i = 0; i < kIds; i += 3) j.Append(Ok("id" + std::to_string(i), "fedcba9876543210", -i));
      } else {
        EXPECT_GT(j.compacted_lines(), 0);
      }
    }
  }
}

TEST(JournalTest, FingerprintsAndLinesOfAnyShapeRoundTrip) {
  // Fingerprints other than 16 lower-case hex digits, ids that need JSON
  // escapes, and hand-written lines with the id not first are read back
  // exactly (the index falls back to the line on disk for them).
  std::string p = FreshPath("shapes");
  const std::string odd = "q\"uote\\back\tslash\u00e9 /x";
  {
    Journal j(p);
    j.Append(Ok("plain", "F1", 1));
    j.Append(Ok(odd, "0123456789ABCDEF", 2));
    j.Append(Ok("hex", "00000000000000ff", 3));
    j.Append(Ok("long", std::string(100, 'f') + "\"q", 4));  // past the prefix read, escaped
  }
  { std::ofstream(p, std::ios::app) << "{\"fp\":\"zz\",\"status\":\"failed\",\"id\":\"late\",\"record\":{}}\n"; }
  for (int round = 0; round < 2; ++round) {
    Journal j(p);
    ASSERT_EQ(j.size(), 5u);
    EXPECT_EQ(j.Find("plain")->fingerprint, "F1");
    EXPECT_EQ(j.Find(odd)->fingerprint, "0123456789ABCDEF");
    EXPECT_EQ(j.Find("hex")->fingerprint, "00000000000000ff");
    EXPECT_EQ(j.Find("long")->fingerprint, std::string(100, 'f') + "\"q");
    std::optional<JournalIndexEntry> late = j.Find("late");
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->fingerprint, "zz");
    // Round 1 sees the entry appended in round 0 over the hand-written line.
    EXPECT_EQ(late->status, round == 0 ? JournalStatus::kFailed : JournalStatus::kOk);
    EXPECT_FALSE(j.Find("q").has_value());
    if (round == 0) j.Append(Ok("late", "zz", 5));
  }
}

}  // namespace
}  // namespace groundcap
