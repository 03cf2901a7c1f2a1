// The safe output-file rules on real files, symlinks, FIFOs and character devices made in a temp
// folder (mknod needs root, as flakescope has in CI; those tests skip without it). Never /dev.
#include "core/output_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "flakescope/error.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;

class OutputFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("outfile." + std::to_string(getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  // A character device like /dev/null (1,3) or /dev/full (1,7), made here.
  bool make_char_device(const std::string& p, unsigned minor) const {
    return ::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0;
  }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  fs::path dir_;
};

TEST_F(OutputFile, WritesANewFileAndReplacesARegularOne) {
  write_output_file(path("r.json"), "one");
  EXPECT_EQ(slurp(path("r.json")), "one");
  fs::permissions(path("r.json"), fs::perms::owner_read | fs::perms::owner_write);
  write_output_file(path("r.json"), "two");
  EXPECT_EQ(slurp(path("r.json")), "two");
  // The mode the user gave the file is kept; no temporary file is left.
  EXPECT_EQ(fs::status(path("r.json")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(entries(), 1u);
}

TEST_F(OutputFile, FollowsSymlinksToTheirTarget) {
  write_output_file(path("target.json"), "old");
  fs::create_symlink("target.json", path("link.json"));
  write_output_file(path("link.json"), "new");
  EXPECT_TRUE(fs::is_symlink(path("link.json")));
  EXPECT_EQ(slurp(path("target.json")), "new");
  // A dangling link creates its target.
  fs::create_symlink("made.json", path("dangling.json"));
  write_output_file(path("dangling.json"), "made");
  EXPECT_TRUE(fs::is_symlink(path("dangling.json")));
  EXPECT_EQ(slurp(path("made.json")), "made");
}

TEST_F(OutputFile, RefusesDirectoriesAndMissingFolders) {
  fs::create_directory(path("sub"));
  EXPECT_THROW(write_output_file(path("sub"), "x"), InputError);
  EXPECT_THROW(write_output_file(path("sub") + "/", "x"), InputError);
  EXPECT_THROW(check_output_path(path("missing/r.json")), InputError);
  fs::create_symlink("sub", path("dirlink"));
  EXPECT_THROW(write_output_file(path("dirlink"), "x"), InputError);
  EXPECT_TRUE(fs::is_directory(path("sub")));
  try {
    check_output_path(path("missing/r.json"));
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

TEST_F(OutputFile, WritesAFifoInPlace) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  std::string got;
  std::thread reader([&] { got = slurp(path("fifo")); });
  write_output_file(path("fifo"), "through the pipe");
  reader.join();
  EXPECT_EQ(got, "through the pipe");
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  EXPECT_EQ(check_output_path(path("fifo")).kind, OutputKind::kInPlace);
}

TEST_F(OutputFile, WritesCharacterDevicesInPlaceAndReportsAFullOne) {
  if (!make_char_device(path("null"), 3) || !make_char_device(path("full"), 7))
    GTEST_SKIP() << "mknod needs root";
  write_output_file(path("null"), "discarded");
  EXPECT_TRUE(fs::is_character_file(path("null")));
  try {
    write_output_file(path("full"), "no space");
    ADD_FAILURE() << "a write to a full device succeeded";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("No space left"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_character_file(path("full")));
  EXPECT_EQ(entries(), 2u);  // no temporary file beside them
}

TEST_F(OutputFile, SameFileByInodeOrResolvedPath) {
  write_output_file(path("a.json"), "a");
  fs::create_symlink("a.json", path("alias.json"));
  fs::create_hard_link(path("a.json"), path("hard.json"));
  EXPECT_TRUE(same_output_file(path("a.json"), path("alias.json")));
  EXPECT_TRUE(same_output_file(path("a.json"), path("hard.json")));
  EXPECT_TRUE(same_output_file(path("new.json"), dir_.string() + "/./new.json"));
  EXPECT_FALSE(same_output_file(path("a.json"), path("b.json")));
  EXPECT_THROW(check_distinct_outputs("--out", path("x"), "--log", path("x")), InputError);
  EXPECT_NO_THROW(check_distinct_outputs("--out", path("x"), "--log", path("y")));
}

}  // namespace
}  // namespace flakescope
