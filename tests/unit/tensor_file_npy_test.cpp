// parse_npy: valid files of every supported kind, and one named test per malformed case the
// reader guards. Files are built in memory here; files written by numpy itself are checked in
// tensor_file_read_test.cpp.
#include <gtest/gtest.h>

#include "io/tensor_file.h"
#include "tensor_file_test_util.h"

namespace flakescope {
namespace {

using testing::bytes_of;
using testing::error_of;
using testing::make_npy;
using testing::values_of;

constexpr const char* kOrigin = "t.npy";

std::string npy_error(std::string_view bytes) {
  return error_of([&] { parse_npy(bytes, kOrigin); });
}

// Expects an InputError "t.npy: ..." of one line containing `fragment`.
void expect_npy_error(std::string_view bytes, std::string_view fragment) {
  const std::string msg = npy_error(bytes);
  EXPECT_EQ(msg.rfind("t.npy: ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(msg.find(fragment), std::string::npos) << "'" << msg << "' lacks '" << fragment << "'";
}

const std::string kF32x6 = bytes_of(std::vector<float>{1, 2, 3, 4, 5, 6});

// ---- valid files ----

TEST(NpyReader, ReadsLittleEndianCOrder) {
  const auto ts = parse_npy(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", kF32x6), kOrigin);
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].name, "");
  EXPECT_EQ(ts[0].dtype, DType::kFloat32);
  EXPECT_EQ(ts[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(ts[0].numel(), 6);
  EXPECT_EQ(values_of<float>(ts[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyReader, ConvertsBigEndianToLittle) {
  const std::string be("\x00\x01\x02\x03\x7f\x00\x00\x01", 8);  // two >i4: 0x00010203, 0x7f000001
  const auto ts =
      parse_npy(make_npy("{'descr': '>i4', 'fortran_order': False, 'shape': (2,)}", be), kOrigin);
  EXPECT_EQ(values_of<std::int32_t>(ts[0]), (std::vector<std::int32_t>{0x00010203, 0x7f000001}));
}

TEST(NpyReader, ConvertsBigEndianDouble) {
  const std::string be("\x3f\xf8\0\0\0\0\0\0", 8);  // 1.5
  const auto ts =
      parse_npy(make_npy("{'descr': '>f8', 'fortran_order': False, 'shape': ()}", be), kOrigin);
  EXPECT_TRUE(ts[0].shape.empty());
  EXPECT_EQ(values_of<double>(ts[0]), (std::vector<double>{1.5}));
}

TEST(NpyReader, ConvertsFortranOrder2D) {
  // Column-major 2x3 [[1,2,3],[4,5,6]] is stored 1 4 2 5 3 6.
  const auto ts = parse_npy(make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3)}",
                                     bytes_of(std::vector<float>{1, 4, 2, 5, 3, 6})),
                            kOrigin);
  EXPECT_EQ(values_of<float>(ts[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyReader, ConvertsFortranOrder3DBigEndian) {
  // Element (i, j, k) of a 2x3x4 array holds 100i + 10j + k. Fortran order: i fastest.
  std::string f;
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 2; ++i) {
        const int v = 100 * i + 10 * j + k;
        f += static_cast<char>(v >> 8);
        f += static_cast<char>(v & 0xff);
      }
  const auto ts = parse_npy(
      make_npy("{'shape': (2, 3, 4), 'fortran_order': True, 'descr': '>i2'}", f), kOrigin);
  const auto v = values_of<std::int16_t>(ts[0]);
  ASSERT_EQ(v.size(), 24u);
  for (int i = 0, c = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k, ++c) EXPECT_EQ(v[c], 100 * i + 10 * j + k) << i << j << k;
}

TEST(NpyReader, FortranOrderOneDimensionalIsUnchanged) {
  const auto ts = parse_npy(
      make_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (6,)}", kF32x6), kOrigin);
  EXPECT_EQ(values_of<float>(ts[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(NpyReader, ReadsVersions2And3) {
  for (int major : {2, 3}) {
    const auto ts = parse_npy(
        make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", kF32x6, major),
        kOrigin);
    EXPECT_EQ(values_of<float>(ts[0]).size(), 6u) << major;
  }
}

TEST(NpyReader, ReadsEveryDtype) {
  struct Case {
    const char* descr;
    DType dtype;
  };
  for (const Case& c :
       {Case{"<f8", DType::kFloat64}, Case{"<f4", DType::kFloat32}, Case{"<f2", DType::kFloat16},
        Case{"<i8", DType::kInt64}, Case{"<i4", DType::kInt32}, Case{"<i2", DType::kInt16},
        Case{"|i1", DType::kInt8}, Case{"|u1", DType::kUInt8}, Case{"|b1", DType::kBool},
        Case{">u1", DType::kUInt8}}) {
    const std::string data(dtype_size(c.dtype) * 2, '\x01');
    const auto ts = parse_npy(
        make_npy(std::string("{'descr': '") + c.descr + "', 'fortran_order': False, 'shape': (2,)}",
                 data),
        kOrigin);
    EXPECT_EQ(ts[0].dtype, c.dtype) << c.descr;
    EXPECT_EQ(ts[0].data.size(), data.size()) << c.descr;
  }
}

TEST(NpyReader, ReadsEmptyArrayAndDoubleQuotes) {
  const auto ts = parse_npy(
      make_npy("{\"descr\": \"<f4\", \"fortran_order\": True, \"shape\": (0, 3)}", ""), kOrigin);
  EXPECT_EQ(ts[0].shape, (std::vector<std::int64_t>{0, 3}));
  EXPECT_TRUE(ts[0].data.empty());
}

// ---- malformed files: one test per guard ----

TEST(NpyMalformed, TooShort) {
  expect_npy_error("\x93NUM", "bad magic");
}

TEST(NpyMalformed, BadMagic) {
  std::string b = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", kF32x6);
  b[1] = 'n';
  expect_npy_error(b, "bad magic");
}

TEST(NpyMalformed, UnsupportedMajorVersion) {
  std::string b = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", kF32x6, 2);
  b[6] = 4;
  expect_npy_error(b, "unsupported .npy format version 4.0");
}

TEST(NpyMalformed, NonzeroMinorVersion) {
  std::string b = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", kF32x6);
  b[7] = 1;
  expect_npy_error(b, "version 1.1");
}

TEST(NpyMalformed, TruncatedHeaderLength) {
  expect_npy_error(std::string("\x93NUMPY\x02\x00\x10\x00", 10), "too short");
}

TEST(NpyMalformed, HeaderLengthBeyondFile) {
  std::string b = make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", "");
  b[8] = '\xff';
  b[9] = '\xff';
  expect_npy_error(b, "header length 65535 exceeds the file size");
}

TEST(NpyMalformed, HeaderNotADict) {
  expect_npy_error(make_npy("['descr', '<f4']", ""), "expects '{'");
}

TEST(NpyMalformed, HeaderEndsEarly) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False", "").substr(0, 30),
                   "header length");
  // The declared length is right but the dict is cut: the parser runs out of header bytes.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'sha";
  std::string b = "\x93NUMPY";
  b += std::string("\x01\x00", 2);
  b += static_cast<char>(dict.size());
  b += '\0';
  expect_npy_error(b + dict, "ends early");
}

TEST(NpyMalformed, UnknownKey) {
  expect_npy_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", kF32x6),
      "unknown key 'x'");
}

TEST(NpyMalformed, MissingDescr) {
  expect_npy_error(make_npy("{'fortran_order': False, 'shape': (6,)}", kF32x6), "lacks 'descr'");
}

TEST(NpyMalformed, MissingFortranOrder) {
  expect_npy_error(make_npy("{'descr': '<f4', 'shape': (6,)}", kF32x6), "lacks 'fortran_order'");
}

TEST(NpyMalformed, MissingShape) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False}", kF32x6), "lacks 'shape'");
}

TEST(NpyMalformed, RepeatedKey) {
  expect_npy_error(
      make_npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", kF32x6),
      "repeats key 'descr'");
}

TEST(NpyMalformed, MissingComma) {
  expect_npy_error(make_npy("{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}", kF32x6),
                   "expects ',' or '}'");
}

TEST(NpyMalformed, BytesAfterDict) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x", kF32x6),
                   "bytes after the dictionary");
}

TEST(NpyMalformed, EscapeInString) {
  expect_npy_error(make_npy("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (6,)}", kF32x6),
                   "escape");
}

TEST(NpyMalformed, UnsupportedDescr) {
  for (const char* d : {"<u4", "<c8", "|O", "<U3", "|V8", "<f16", "<M8"}) {
    expect_npy_error(
        make_npy(std::string("{'descr': '") + d + "', 'fortran_order': False, 'shape': (1,)}",
                 "12345678"),
        "unsupported descr");
  }
}

TEST(NpyMalformed, StructuredDescr) {
  expect_npy_error(
      make_npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "1234"),
      "expects a string");
}

TEST(NpyMalformed, DescrWithoutExplicitByteOrder) {
  expect_npy_error(make_npy("{'descr': '=f4', 'fortran_order': False, 'shape': (6,)}", kF32x6),
                   "without an explicit byte order");
  expect_npy_error(make_npy("{'descr': 'f4', 'fortran_order': False, 'shape': (6,)}", kF32x6),
                   "unsupported descr");
}

TEST(NpyMalformed, NotApplicableByteOrderForMultibyte) {
  expect_npy_error(make_npy("{'descr': '|f4', 'fortran_order': False, 'shape': (6,)}", kF32x6),
                   "without an explicit byte order");
}

TEST(NpyMalformed, FortranOrderNotBool) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", kF32x6),
                   "not True or False");
}

TEST(NpyMalformed, ShapeNotTuple) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': [6]}", kF32x6),
                   "expects '('");
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", kF32x6),
                   "not a tuple");
}

TEST(NpyMalformed, NegativeDimension) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}", kF32x6),
                   "non-negative integer");
}

TEST(NpyMalformed, DimensionBeyondInt64) {
  expect_npy_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,)}", ""),
      "beyond int64");
}

TEST(NpyMalformed, SizeOverflow) {
  // 2^31 * 2^31 elements fit in int64, but times 4 bytes do not.
  expect_npy_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648, 2147483648)}", ""),
      "overflows");
}

TEST(NpyMalformed, SizeOverflowDespiteZeroDimension) {
  expect_npy_error(
      make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4294967296, 4294967296)}",
               ""),
      "overflows");
}

TEST(NpyMalformed, TooManyDimensions) {
  std::string shape = "(";
  for (int i = 0; i < 65; ++i) shape += "1, ";
  expect_npy_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ")}", "1234"),
      "more than 64 dimensions");
}

TEST(NpyMalformed, DataShorterThanShape) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}", kF32x6),
                   "needs 28 data bytes but the file has 24");
}

TEST(NpyMalformed, DataLongerThanShape) {
  expect_npy_error(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5,)}", kF32x6),
                   "needs 20 data bytes but the file has 24");
}

TEST(NpyMalformed, HugeShapeWithoutData) {
  // A header that claims 10^12 elements is refused by its size, never allocated.
  expect_npy_error(
      make_npy("{'descr': '<f8', 'fortran_order': True, 'shape': (1000000, 1000000)}", "12345678"),
      "needs 8000000000000 data bytes");
}

TEST(NpyMalformed, BoolNotZeroOrOne) {
  expect_npy_error(make_npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}",
                            std::string("\x00\x01\x02", 3)),
                   "bool element 2 holds 2");
}

TEST(NpyMalformed, HostileKeyIsQuotedOnOneLine) {
  const std::string msg = npy_error(
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'a\rb\x01': 1}", kF32x6));
  EXPECT_NE(msg.find("'a\\x0db\\x01'"), std::string::npos) << msg;
}

}  // namespace
}  // namespace flakescope
