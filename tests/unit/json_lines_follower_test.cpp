// The reader that parses the plugin's JSON lines while the process writes them: lines split across
// polls, a torn last line, blank lines, the line cap, a file that appears late.
#include "audit/json_lines_follower.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace flakescope::audit {
namespace {

struct TempFile {
  TempFile() {
    char pattern[] = "/tmp/flakescope-follow-XXXXXX";
    dir = mkdtemp(pattern);
    path = dir + "/lines.jsonl";
  }
  ~TempFile() { std::filesystem::remove_all(dir); }
  void append(const std::string& text) const {
    std::ofstream(path, std::ios::app | std::ios::binary) << text;
  }
  std::string dir, path;
};

TEST(JsonLinesFollower, LinesSplitAcrossPollsParseOnce) {
  TempFile f;
  JsonLinesFollower follower(f.path);
  follower.poll();  // no file yet
  f.append("{\"a\": 1}\n{\"b\"");
  follower.poll();
  f.append(": 2}\n\n  \n{\"c\": 3}\n");
  follower.poll();
  const auto lines = follower.finish();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["a"], 1);
  EXPECT_EQ(lines[1]["b"], 2);
  EXPECT_EQ(lines[2]["c"], 3);
}

TEST(JsonLinesFollower, TornLastLineIsADiscardedValue) {
  TempFile f;
  f.append("{\"a\": 1}\n{\"b\": 2");  // killed mid-write
  JsonLinesFollower follower(f.path);
  follower.poll();
  const auto lines = follower.finish();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["a"], 1);
  EXPECT_TRUE(lines[1].is_discarded());
}

TEST(JsonLinesFollower, KeepsAtMostMaxLines) {
  TempFile f;
  for (int i = 0; i < 10; ++i) f.append("{\"i\": " + std::to_string(i) + "}\n");
  JsonLinesFollower follower(f.path, 4);
  const auto lines = follower.finish();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3]["i"], 3);
}

TEST(JsonLinesFollower, MissingFileIsEmpty) {
  EXPECT_TRUE(JsonLinesFollower("/tmp/flakescope-no-such-dir-xyz/lines.jsonl").finish().empty());
}

}  // namespace
}  // namespace flakescope::audit
