// parse_safetensors: valid files, and one named test per malformed case the reader guards. Files
// are built in memory; files written by the safetensors package are checked in
// tensor_file_read_test.cpp.
#include <gtest/gtest.h>

#include "io/tensor_file.h"
#include "tensor_file_test_util.h"

namespace flakescope {
namespace {

using testing::bytes_of;
using testing::error_of;
using testing::make_safetensors;
using testing::values_of;

constexpr const char* kOrigin = "m.safetensors";

void expect_st_error(std::string_view bytes, std::string_view fragment) {
  const std::string msg = error_of([&] { parse_safetensors(bytes, kOrigin); });
  EXPECT_EQ(msg.rfind("m.safetensors: ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(msg.find(fragment), std::string::npos) << "'" << msg << "' lacks '" << fragment << "'";
}

// A header with one tensor "a" of the given fields, over `data`.
std::string one(std::string_view fields, std::string_view data) {
  return make_safetensors("{\"a\":{" + std::string(fields) + "}}", data);
}

const std::string k4Floats = bytes_of(std::vector<float>{1.5f, -2, 3, 4});

// ---- valid files ----

TEST(SafetensorsReader, ReadsTensorsInOffsetOrderWithMetadata) {
  const std::string data = bytes_of(std::vector<std::int64_t>{7, -8}) + k4Floats;
  const auto ts = parse_safetensors(
      make_safetensors(R"({"__metadata__":{"format":"pt"},)"
                       R"("w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},)"
                       R"("step":{"data_offsets":[0,16],"shape":[2],"dtype":"I64"}})",
                       data),
      kOrigin);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].name, "step");
  EXPECT_EQ(ts[0].dtype, DType::kInt64);
  EXPECT_EQ(values_of<std::int64_t>(ts[0]), (std::vector<std::int64_t>{7, -8}));
  EXPECT_EQ(ts[1].name, "w");
  EXPECT_EQ(ts[1].shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(values_of<float>(ts[1]), (std::vector<float>{1.5f, -2, 3, 4}));
}

TEST(SafetensorsReader, ReadsEveryDtype) {
  struct Case {
    const char* name;
    DType dtype;
  };
  for (const Case& c :
       {Case{"F64", DType::kFloat64}, Case{"F32", DType::kFloat32}, Case{"F16", DType::kFloat16},
        Case{"BF16", DType::kBFloat16}, Case{"I64", DType::kInt64}, Case{"I32", DType::kInt32},
        Case{"I16", DType::kInt16}, Case{"I8", DType::kInt8}, Case{"U8", DType::kUInt8},
        Case{"BOOL", DType::kBool}}) {
    const std::size_t n = dtype_size(c.dtype) * 3;
    const auto ts =
        parse_safetensors(one(std::string("\"dtype\":\"") + c.name +
                                  "\",\"shape\":[3],\"data_offsets\":[0," + std::to_string(n) + "]",
                              std::string(n, '\x01')),
                          kOrigin);
    EXPECT_EQ(ts[0].dtype, c.dtype) << c.name;
    EXPECT_EQ(ts[0].data.size(), n) << c.name;
  }
}

TEST(SafetensorsReader, EmptyHeaderAndZeroSizeTensors) {
  EXPECT_TRUE(parse_safetensors(make_safetensors("{}", ""), kOrigin).empty());
  const auto ts = parse_safetensors(
      make_safetensors(R"({"e":{"dtype":"F32","shape":[0,5],"data_offsets":[4,4]},)"
                       R"("s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                       R"("z":{"dtype":"I8","shape":[0],"data_offsets":[4,4]}})",
                       bytes_of(std::vector<float>{9})),
      kOrigin);
  ASSERT_EQ(ts.size(), 3u);
  EXPECT_EQ(ts[0].name, "s");
  EXPECT_TRUE(ts[0].shape.empty());
  EXPECT_EQ(ts[0].numel(), 1);
  EXPECT_TRUE(ts[1].data.empty());
  EXPECT_TRUE(ts[2].data.empty());
}

TEST(SafetensorsReader, AcceptsHeaderPaddedWithSpaces) {
  const auto ts = parse_safetensors(
      make_safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}       )",
                       k4Floats),
      kOrigin);
  EXPECT_EQ(ts.size(), 1u);
}

// ---- malformed files: one test per guard ----

TEST(SafetensorsMalformed, TooShortForHeaderLength) {
  expect_st_error("1234567", "too short");
}

TEST(SafetensorsMalformed, HeaderLengthBeyondFile) {
  std::string b = make_safetensors("{}", "");
  b[7] = '\x7f';
  expect_st_error(b, "exceeds the file size");
}

TEST(SafetensorsMalformed, HeaderLengthMaxU64) {
  expect_st_error(std::string(8, '\xff') + "{}", "header length 18446744073709551615 exceeds");
}

TEST(SafetensorsMalformed, HeaderNotJson) {
  expect_st_error(make_safetensors("{\"a\":", ""), "not valid JSON");
  expect_st_error(make_safetensors("", ""), "not valid JSON");
}

TEST(SafetensorsMalformed, HeaderInvalidUtf8) {
  expect_st_error(make_safetensors("{\"\xff\":{}}", ""), "not valid JSON");
}

TEST(SafetensorsMalformed, HeaderNotObject) {
  expect_st_error(make_safetensors("[1,2]", ""), "not a JSON object (found an array)");
  expect_st_error(make_safetensors("7", ""), "not a JSON object (found a number)");
}

TEST(SafetensorsMalformed, TrailingJsonAfterHeader) {
  expect_st_error(make_safetensors("{}{}", ""), "not valid JSON");
}

TEST(SafetensorsMalformed, TensorEntryNotObject) {
  expect_st_error(make_safetensors(R"({"a":[1]})", ""), "tensor entry is not an object");
  expect_st_error(make_safetensors(R"({"a":"F32"})", ""), "tensor entry is not an object");
}

TEST(SafetensorsMalformed, MissingDtype) {
  expect_st_error(one(R"("shape":[4],"data_offsets":[0,16])", k4Floats), "lacks dtype");
}

TEST(SafetensorsMalformed, MissingShape) {
  expect_st_error(one(R"("dtype":"F32","data_offsets":[0,16])", k4Floats), "lacks shape");
}

TEST(SafetensorsMalformed, MissingDataOffsets) {
  expect_st_error(one(R"("dtype":"F32","shape":[4])", k4Floats), "lacks data_offsets");
}

TEST(SafetensorsMalformed, UnknownField) {
  expect_st_error(one(R"("dtype":"F32","shape":[4],"data_offsets":[0,16],"x":1)", k4Floats),
                  "unknown field 'x'");
}

TEST(SafetensorsMalformed, RepeatedField) {
  expect_st_error(one(R"("dtype":"F32","dtype":"F32","shape":[4],"data_offsets":[0,16])", k4Floats),
                  "repeats field 'dtype'");
}

TEST(SafetensorsMalformed, DuplicateTensorName) {
  expect_st_error(make_safetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                   R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   k4Floats),
                  "duplicate tensor name 'a'");
}

TEST(SafetensorsMalformed, UnsupportedDtype) {
  for (const char* d : {"U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "C64", "f32", ""}) {
    expect_st_error(
        one(std::string("\"dtype\":\"") + d + R"(","shape":[4],"data_offsets":[0,16])", k4Floats),
        "unsupported dtype");
  }
}

TEST(SafetensorsMalformed, DtypeNotString) {
  expect_st_error(one(R"("dtype":4,"shape":[4],"data_offsets":[0,16])", k4Floats),
                  "wrong type for field (found a number) in tensor 'a' field dtype");
}

TEST(SafetensorsMalformed, ShapeNotArray) {
  expect_st_error(one(R"("dtype":"F32","shape":4,"data_offsets":[0,16])", k4Floats),
                  "wrong type for field");
  expect_st_error(one(R"("dtype":"F32","shape":{"n":4},"data_offsets":[0,16])", k4Floats),
                  "wrong type for field (found an object)");
}

TEST(SafetensorsMalformed, NestedShape) {
  expect_st_error(one(R"("dtype":"F32","shape":[[4]],"data_offsets":[0,16])", k4Floats),
                  "found an array");
}

TEST(SafetensorsMalformed, NegativeDimension) {
  expect_st_error(one(R"("dtype":"F32","shape":[-4],"data_offsets":[0,16])", k4Floats),
                  "a negative number");
}

TEST(SafetensorsMalformed, NonIntegerDimension) {
  expect_st_error(one(R"("dtype":"F32","shape":[4.0],"data_offsets":[0,16])", k4Floats),
                  "a non-integer number");
  expect_st_error(one(R"("dtype":"F32","shape":[null],"data_offsets":[0,16])", k4Floats),
                  "found null");
  expect_st_error(one(R"("dtype":"F32","shape":[true],"data_offsets":[0,16])", k4Floats),
                  "found a boolean");
}

TEST(SafetensorsMalformed, DimensionBeyondInt64) {
  expect_st_error(
      one(R"("dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,16])", k4Floats),
      "dimension beyond int64");
  // Beyond u64, nlohmann reads a float.
  expect_st_error(
      one(R"("dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,16])", k4Floats),
      "non-integer");
}

TEST(SafetensorsMalformed, TooManyDimensions) {
  std::string shape = "[1";
  for (int i = 0; i < 64; ++i) shape += ",1";
  expect_st_error(one(R"("dtype":"F32","shape":)" + shape + R"(],"data_offsets":[0,4])", "1234"),
                  "more than 64 dimensions");
}

TEST(SafetensorsMalformed, SizeOverflow) {
  expect_st_error(
      one(R"("dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,16])", k4Floats),
      "overflows");
  expect_st_error(
      one(R"("dtype":"F64","shape":[0,4294967296,4294967296],"data_offsets":[0,0])", ""),
      "overflows");
}

TEST(SafetensorsMalformed, DataOffsetsWrongCount) {
  expect_st_error(one(R"("dtype":"F32","shape":[4],"data_offsets":[16])", k4Floats),
                  "has 1 data_offsets, not 2");
  expect_st_error(one(R"("dtype":"F32","shape":[4],"data_offsets":[0,16,16])", k4Floats),
                  "more than 2 data_offsets");
}

TEST(SafetensorsMalformed, DataOffsetsReversed) {
  expect_st_error(one(R"("dtype":"F32","shape":[4],"data_offsets":[16,0])", k4Floats),
                  "end before they begin");
}

TEST(SafetensorsMalformed, DataOffsetsPastEnd) {
  expect_st_error(one(R"("dtype":"F32","shape":[4],"data_offsets":[0,17])", k4Floats),
                  "past the 16 data bytes");
  expect_st_error(
      one(R"("dtype":"F32","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615])",
          ""),
      "past the 0 data bytes");
}

TEST(SafetensorsMalformed, ByteLengthDoesNotMatchShape) {
  expect_st_error(one(R"("dtype":"F32","shape":[3],"data_offsets":[0,16])", k4Floats),
                  "has 16 bytes but float32 (3,) needs 12");
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  expect_st_error(make_safetensors(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                                   R"("b":{"dtype":"F32","shape":[3],"data_offsets":[4,16]}})",
                                   k4Floats),
                  "'b' overlaps");
}

TEST(SafetensorsMalformed, AliasedTensors) {
  expect_st_error(make_safetensors(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                                   R"("b":{"dtype":"I32","shape":[4],"data_offsets":[0,16]}})",
                                   k4Floats),
                  "overlaps");
}

TEST(SafetensorsMalformed, HoleBetweenTensors) {
  expect_st_error(make_safetensors(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                   R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   k4Floats),
                  "data bytes 4..8 belong to no tensor");
}

TEST(SafetensorsMalformed, LeadingGap) {
  expect_st_error(one(R"("dtype":"F32","shape":[3],"data_offsets":[4,16])", k4Floats),
                  "data bytes 0..4 belong to no tensor");
}

TEST(SafetensorsMalformed, TrailingBytes) {
  expect_st_error(one(R"("dtype":"F32","shape":[3],"data_offsets":[0,12])", k4Floats),
                  "data bytes 12..16 belong to no tensor");
  expect_st_error(make_safetensors("{}", "x"), "data bytes 0..1 belong to no tensor");
}

TEST(SafetensorsMalformed, MetadataNotObject) {
  expect_st_error(make_safetensors(R"({"__metadata__":["x"]})", ""),
                  "__metadata__ is not an object");
}

TEST(SafetensorsMalformed, MetadataValueNotString) {
  expect_st_error(make_safetensors(R"({"__metadata__":{"k":1}})", ""),
                  "__metadata__ values must be strings");
  expect_st_error(make_safetensors(R"({"__metadata__":{"k":{"deep":"x"}}})", ""),
                  "__metadata__ values must be strings");
}

TEST(SafetensorsMalformed, RepeatedMetadata) {
  expect_st_error(make_safetensors(R"({"__metadata__":{},"__metadata__":{}})", ""),
                  "duplicate tensor name '__metadata__'");
}

TEST(SafetensorsMalformed, DeepNestingStopsAtFirstLevel) {
  // 100000 nested arrays: refused at the first unexpected token, no deep recursion or DOM.
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  expect_st_error(make_safetensors(deep, ""), "tensor entry is not an object");
}

TEST(SafetensorsMalformed, BoolNotZeroOrOne) {
  expect_st_error(one(R"("dtype":"BOOL","shape":[2],"data_offsets":[0,2])", "\x01\x07"),
                  "bool element 1 holds 7");
}

TEST(SafetensorsMalformed, HostileNameIsQuotedOnOneLine) {
  expect_st_error(
      make_safetensors(R"({"a\nb\u0000":{"dtype":"X","shape":[4],"data_offsets":[0,16]}})",
                       k4Floats),
      "tensor 'a\\x0ab\\x00' has unsupported dtype 'X'");
}

}  // namespace
}  // namespace flakescope
