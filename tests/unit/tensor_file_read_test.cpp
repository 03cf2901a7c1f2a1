// read_tensor_file on disk: the files that numpy and the safetensors package wrote
// (tests/data/tensors/make_tensors.py) decode to the values those libraries recorded in
// expected.json; and the file-level guards (missing, not regular, too large, unknown format,
// torch.save) each have a test.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/report.h"
#include "io/tensor_file.h"
#include "tensor_file_test_util.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;
using testing::element;
using testing::error_of;

const std::string kDir = std::string(FLAKESCOPE_TEST_DATA) + "/tensors/";

class ScratchDir {
 public:
  ScratchDir() {
    path_ = fs::temp_directory_path() / ("flakescope_tensor_file_" + std::to_string(::getpid()));
    fs::create_directories(path_);
  }
  ~ScratchDir() { fs::remove_all(path_); }
  std::string write(const std::string& name, std::string_view bytes) const {
    const std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

TEST(TensorFileRead, FilesFromNumpyAndSafetensorsMatchTheirValues) {
  const auto expected = nlohmann::json::parse(read_file(kDir + "expected.json"));
  int files = 0;
  for (const auto& [file, tensors] : expected.items()) {
    if (file.size() < 4 || file.substr(file.size() - 3) == ".pt") continue;  // torch_save_test
    SCOPED_TRACE(file);
    ++files;
    const auto got = read_tensor_file(kDir + file);
    ASSERT_EQ(got.size(), tensors.size());
    for (std::size_t t = 0; t < got.size(); ++t) {
      // The reader orders safetensors by offset; the expectations are by name.
      const auto it = std::find_if(tensors.begin(), tensors.end(), [&](const auto& e) {
        return e["name"].template get<std::string>() == got[t].name;
      });
      ASSERT_NE(it, tensors.end()) << got[t].name;
      const auto& e = *it;
      EXPECT_EQ(dtype_name(got[t].dtype), e["dtype"].get<std::string>());
      EXPECT_EQ(got[t].shape, e["shape"].get<std::vector<std::int64_t>>());
      const auto values = e["values"].get<std::vector<double>>();
      ASSERT_EQ(static_cast<std::size_t>(got[t].numel()), values.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        EXPECT_EQ(element(got[t], i), values[i]) << got[t].name << "[" << i << "]";
      }
    }
  }
  EXPECT_GE(files, 14);  // 12 .npy (v1-v3, both byte orders, Fortran order) + 2 .safetensors
}

TEST(TensorFileRead, DetectsFormatByMagicThenExtension) {
  EXPECT_EQ(detect_tensor_file_format("\x93NUMPY\x01", "x.bin"), TensorFileFormat::kNpy);
  EXPECT_EQ(detect_tensor_file_format(std::string("\x02\0\0\0\0\0\0\0{}", 10), "x.npy"),
            TensorFileFormat::kSafetensors);
  EXPECT_EQ(detect_tensor_file_format(std::string("PK\x03\x04", 4), "x"),
            TensorFileFormat::kTorchSave);
  EXPECT_EQ(detect_tensor_file_format("\x80\x02\x8a\x0a", "x"), TensorFileFormat::kTorchSave);
  // A header length of 640 starts with 0x80 0x02 like a pickle; the '{' at byte 8 decides.
  EXPECT_EQ(detect_tensor_file_format(std::string("\x80\x02\0\0\0\0\0\0{", 9), "x"),
            TensorFileFormat::kSafetensors);
  EXPECT_EQ(detect_tensor_file_format("", "a.safetensors"), TensorFileFormat::kSafetensors);
  EXPECT_EQ(detect_tensor_file_format("", "a.npy"), TensorFileFormat::kNpy);
  EXPECT_EQ(detect_tensor_file_format("", "a.pth"), TensorFileFormat::kTorchSave);
  EXPECT_EQ(detect_tensor_file_format("hello", "a.txt"), std::nullopt);
}

TEST(TensorFileRead, MissingFile) {
  const std::string msg = error_of([] { read_tensor_file("/nonexistent/x.npy"); });
  EXPECT_EQ(msg, "/nonexistent/x.npy: No such file or directory");
}

TEST(TensorFileRead, NotARegularFile) {
  ScratchDir dir;
  const std::string msg = error_of([&] { read_tensor_file(dir.path()); });
  EXPECT_EQ(msg, dir.path() + ": not a regular file");
}

TEST(TensorFileRead, FileLargerThanTheLimitIsRefusedBeforeReading) {
  ScratchDir dir;
  const std::string p = dir.write("big.npy", std::string(1000, 'x'));
  const std::string msg = error_of([&] { read_bounded_file(p, 999); });
  EXPECT_EQ(msg, p + ": 1000 bytes, more than the 999 a tensor file may have");
  EXPECT_EQ(read_bounded_file(p, 1000).size(), 1000u);
}

TEST(TensorFileRead, UnrecognisedFormat) {
  ScratchDir dir;
  const std::string p = dir.write("notes.txt", "just text");
  EXPECT_NE(error_of([&] { read_tensor_file(p); }).find(": not a recognised tensor file"),
            std::string::npos);
}

TEST(TensorFileRead, TorchSaveNeedsTheLibTorchReader) {
  const std::string msg = error_of([] { read_tensor_file(kDir + "torch_tensor.pt"); });
  EXPECT_NE(msg.find("torch_tensor.pt: a torch.save file needs the LibTorch reader"),
            std::string::npos)
      << msg;
}

TEST(TensorFileRead, MalformedFileNamesThePath) {
  ScratchDir dir;
  const std::string p = dir.write("cut.safetensors", std::string("\x10\0\0\0\0\0\0\0{", 9));
  const std::string msg = error_of([&] { read_tensor_file(p); });
  EXPECT_EQ(msg, p + ": safetensors header length 16 exceeds the file size (9 bytes)");
}

TEST(TensorFileRead, EmptyFileWithTensorExtension) {
  ScratchDir dir;
  const std::string p = dir.write("empty.npy", "");
  EXPECT_EQ(error_of([&] { read_tensor_file(p); }), p + ": not an .npy file (bad magic)");
}

}  // namespace
}  // namespace flakescope
