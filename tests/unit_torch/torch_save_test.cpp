// read_torch_save on files written by Python's torch.save (tests/data/tensors/make_tensors.py):
// the values match what torch recorded in expected.json; containers, dtypes, a non-contiguous
// tensor; and each refusal (not a tensor container, corrupt archive, legacy format) is one line.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/version.h>
#include <nlohmann/json.hpp>

#include "../unit/tensor_file_test_util.h"
#include "core/report.h"
#include "engine/torch_save_reader.h"

namespace flakescope {
namespace {

namespace fs = std::filesystem;
using testing::element;
using testing::error_of;

const std::string kDir = std::string(FLAKESCOPE_TEST_DATA) + "/tensors/";

void expect_matches(const std::string& file) {
  SCOPED_TRACE(file);
  const auto expected = nlohmann::json::parse(read_file(kDir + "expected.json")).at(file);
  const auto got = read_torch_save(kDir + file);
  ASSERT_EQ(got.size(), expected.size());
  for (const auto& t : got) {
    const auto it = std::find_if(expected.begin(), expected.end(),
                                 [&](const auto& e) { return e["name"] == t.name; });
    ASSERT_NE(it, expected.end()) << t.name;
    EXPECT_EQ(dtype_name(t.dtype), (*it)["dtype"].get<std::string>());
    EXPECT_EQ(t.shape, (*it)["shape"].get<std::vector<std::int64_t>>());
    const auto values = (*it)["values"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<std::size_t>(t.numel()), values.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(element(t, i), values[i]) << i;
  }
}

TEST(TorchSaveReader, Tensor) {
  expect_matches("torch_tensor.pt");
}
TEST(TorchSaveReader, ListOfTensors) {
  expect_matches("torch_list.pt");
}
TEST(TorchSaveReader, TupleOfTensors) {
  expect_matches("torch_tuple.pt");
}
TEST(TorchSaveReader, DictOfTensors) {
  expect_matches("torch_dict.pt");
}
TEST(TorchSaveReader, TransposedTensorComesBackInCOrder) {
  expect_matches("torch_transposed.pt");
}

TEST(TorchSaveReader, ReadExpectedTensorsDispatchesOnFormat) {
  EXPECT_EQ(read_expected_tensors(kDir + "torch_dict.pt").size(), 2u);
  EXPECT_EQ(read_expected_tensors(kDir + "f32_c.npy").at(0).numel(), 6);
  EXPECT_EQ(read_expected_tensors(kDir + "mixed.safetensors").size(), 7u);
}

TEST(TorchSaveMalformed, NotATensorContainer) {
  const std::string p = kDir + "torch_not_tensor.pt";
  EXPECT_EQ(error_of([&] { read_torch_save(p); }), p + ": dict value 'n' is a Int, not a tensor");
}

TEST(TorchSaveMalformed, PickleLibTorchCannotRead) {
  const std::string p = kDir + "torch_unsupported_pickle.pt";
  const std::string msg = error_of([&] { read_torch_save(p); });
#if TORCH_VERSION_MAJOR < 2
  EXPECT_EQ(msg.rfind(p + ": cannot unpickle: ", 0), 0u) << msg;
#else
  // LibTorch 2.x unpickles the string value (2.15 does); then it is not a tensor.
  EXPECT_TRUE(msg.rfind(p + ": cannot unpickle: ", 0) == 0 ||
              msg == p + ": dict value 'not' is a String, not a tensor")
      << msg;
#endif
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

class Scratch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flakescope_torch_save_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  fs::path dir_;
};

TEST_F(Scratch, TruncatedArchive) {
  const std::string whole = read_file(kDir + "torch_tensor.pt");
  const std::string p = write("cut.pt", whole.substr(0, whole.size() / 2));
  const std::string msg = error_of([&] { read_torch_save(p); });
#if TORCH_VERSION_MAJOR < 2
  EXPECT_EQ(msg.rfind(p + ": cannot unpickle: ", 0), 0u) << msg;
#else
  // LibTorch 2.x unpickles the string value (2.15 does); then it is not a tensor.
  EXPECT_TRUE(msg.rfind(p + ": cannot unpickle: ", 0) == 0 ||
              msg == p + ": dict value 'not' is a String, not a tensor")
      << msg;
#endif
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST_F(Scratch, CorruptedArchiveBytes) {
  std::string bytes = read_file(kDir + "torch_tensor.pt");
  for (std::size_t i = 64; i < bytes.size(); i += 7) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  const std::string p = write("corrupt.pt", bytes);
  const std::string msg = error_of([&] { read_torch_save(p); });
  EXPECT_EQ(msg.rfind(p + ": ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST_F(Scratch, LegacyPickleFormat) {
  const std::string p = write("legacy.pt", std::string("\x80\x02\x8a\x0a", 4) + "legacy pickle.");
  EXPECT_NE(error_of([&] { read_torch_save(p); }).find(": not a torch.save zip archive"),
            std::string::npos);
}

TEST_F(Scratch, MissingFile) {
  const std::string p = (dir_ / "none.pt").string();
  EXPECT_EQ(error_of([&] { read_expected_tensors(p); }), p + ": No such file or directory");
}

}  // namespace
}  // namespace flakescope
