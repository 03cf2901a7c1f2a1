// NumPy .npy (numpy/lib/format.py): "\x93NUMPY", major and minor version, a little-endian header
// length (u16 in 1.0, u32 in 2.0 and 3.0), a Python dict literal, then the raw array. The dict is
// parsed by a small strict grammar instead of anything resembling eval: exactly the keys 'descr',
// 'fortran_order' and 'shape', string / True|False / tuple-of-int values, whitespace and an
// optional trailing comma, nothing else.
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "io/reader_support.h"
#include "io/tensor_file.h"

namespace flakescope {
namespace {

using io::fail;
using io::printable;

constexpr std::string_view kMagic = "\x93NUMPY";

struct NpyHeader {
  DType dtype = DType::kFloat32;
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// Recursive descent over the header dict. Every method either advances or throws.
class DictParser {
 public:
  DictParser(std::string_view text, std::string_view origin) : s_(text), origin_(origin) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_space();
    expect('{');
    skip_space();
    while (peek() != '}') {
      const std::string key = string_literal();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (have_descr) error("repeats key 'descr'");
        have_descr = true;
        descr(string_literal(), h);
      } else if (key == "fortran_order") {
        if (have_order) error("repeats key 'fortran_order'");
        have_order = true;
        h.fortran_order = boolean();
      } else if (key == "shape") {
        if (have_shape) error("repeats key 'shape'");
        have_shape = true;
        h.shape = tuple();
      } else {
        error("has unknown key " + printable(key));
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        skip_space();
      } else if (peek() != '}') {
        error("expects ',' or '}' at byte " + std::to_string(pos_));
      }
    }
    ++pos_;  // '}'
    skip_space();
    if (pos_ != s_.size()) error("has bytes after the dictionary at byte " + std::to_string(pos_));
    if (!have_descr) error("lacks 'descr'");
    if (!have_order) error("lacks 'fortran_order'");
    if (!have_shape) error("lacks 'shape'");
    return h;
  }

 private:
  [[noreturn]] void error(const std::string& what) const { fail(origin_, "npy header " + what); }

  char peek() const {
    if (pos_ >= s_.size()) error("ends early");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) {
      error("expects '" + std::string(1, c) + "' at byte " + std::to_string(pos_) + ", found " +
            printable(s_.substr(pos_, 1)));
    }
    ++pos_;
  }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // 'text' or "text"; escapes never occur in valid headers, so a backslash is an error.
  std::string string_literal() {
    const char q = peek();
    if (q != '\'' && q != '"') error("expects a string at byte " + std::to_string(pos_));
    const std::size_t start = ++pos_;
    while (peek() != q) {
      if (s_[pos_] == '\\' || s_[pos_] == '\n') error("has an escape or newline inside a string");
      ++pos_;
    }
    return std::string(s_.substr(start, pos_++ - start));
  }

  bool boolean() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    error("'fortran_order' is not True or False");
  }

  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> dims;
    expect('(');
    skip_space();
    bool trailing_comma = false;
    while (peek() != ')') {
      dims.push_back(integer());
      if (dims.size() > kMaxTensorDims) {
        error("shape has more than " + std::to_string(kMaxTensorDims) + " dimensions");
      }
      skip_space();
      trailing_comma = false;
      if (peek() == ',') {
        ++pos_;
        trailing_comma = true;
        skip_space();
      } else if (peek() != ')') {
        error("shape expects ',' or ')' at byte " + std::to_string(pos_));
      }
    }
    ++pos_;
    // Python: (3) is the int 3, not a tuple; (3,) is a tuple.
    if (dims.size() == 1 && !trailing_comma) error("shape (n) is not a tuple; write (n,)");
    return dims;
  }

  std::int64_t integer() {
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      const unsigned digit = static_cast<unsigned>(s_[pos_] - '0');
      if (v > (static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) - digit) / 10) {
        error("shape has a dimension beyond int64");
      }
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start)
      error("shape expects a non-negative integer at byte " + std::to_string(pos_));
    return static_cast<std::int64_t>(v);
  }

  void descr(const std::string& d, NpyHeader& h) {
    if (d.size() < 3) error("has unsupported descr " + printable(d));
    const char order = d[0];
    const std::string kind = d.substr(1);
    DType t;
    if (kind == "f8")
      t = DType::kFloat64;
    else if (kind == "f4")
      t = DType::kFloat32;
    else if (kind == "f2")
      t = DType::kFloat16;
    else if (kind == "i8")
      t = DType::kInt64;
    else if (kind == "i4")
      t = DType::kInt32;
    else if (kind == "i2")
      t = DType::kInt16;
    else if (kind == "i1")
      t = DType::kInt8;
    else if (kind == "u1")
      t = DType::kUInt8;
    else if (kind == "b1")
      t = DType::kBool;
    else
      error("has unsupported descr " + printable(d) + " (supported: f8 f4 f2 i8 i4 i2 i1 u1 b1)");
    const bool one_byte = dtype_size(t) == 1;
    // '=' (native) never appears in files numpy writes and would depend on the writer's machine.
    if (order == '<' || (order == '|' && one_byte)) {
      h.big_endian = false;
    } else if (order == '>') {
      h.big_endian = !one_byte;
    } else {
      error("has descr " + printable(d) + " without an explicit byte order ('<' or '>')");
    }
    h.dtype = t;
  }

  std::string_view s_;
  std::string_view origin_;
  std::size_t pos_ = 0;
};

// Fortran order to C order: walk the C-order index like an odometer and keep the Fortran offset
// in step, so the cost is O(numel) plus O(ndim) per carry.
std::vector<unsigned char> fortran_to_c(const unsigned char* src, const NpyHeader& h,
                                        std::size_t numel) {
  const std::size_t item = dtype_size(h.dtype);
  std::vector<unsigned char> out(numel * item);
  const std::size_t nd = h.shape.size();
  if (numel == 0 || nd < 2) {
    // An empty array has no buffer: memcpy's pointers must not be null even for 0 bytes (UBSan).
    if (!out.empty()) std::memcpy(out.data(), src, out.size());
    return out;
  }
  std::vector<std::size_t> fstride(nd), index(nd, 0);
  std::size_t stride = 1;
  for (std::size_t k = 0; k < nd; ++k) {
    fstride[k] = stride;
    stride *= static_cast<std::size_t>(h.shape[k]);
  }
  std::size_t foff = 0;
  for (std::size_t c = 0; c < numel; ++c) {
    std::memcpy(out.data() + c * item, src + foff * item, item);
    for (std::size_t k = nd; k-- > 0;) {  // last axis varies fastest in C order
      if (++index[k] < static_cast<std::size_t>(h.shape[k])) {
        foff += fstride[k];
        break;
      }
      foff -= fstride[k] * (index[k] - 1);
      index[k] = 0;
    }
  }
  return out;
}

}  // namespace

std::vector<HostTensor> parse_npy(std::string_view bytes, std::string_view origin) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != kMagic)
    fail(origin, "not an .npy file (bad magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0) {
    fail(origin, "unsupported .npy format version " + std::to_string(major) + "." +
                     std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  }
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) fail(origin, "too short for an .npy header");
  std::uint64_t header_len = 0;
  for (std::size_t i = len_bytes; i-- > 0;) {
    header_len = (header_len << 8) | static_cast<unsigned char>(bytes[8 + i]);
  }
  const std::size_t data_start = 8 + len_bytes;
  if (header_len > bytes.size() - data_start) {
    fail(origin, "npy header length " + std::to_string(header_len) + " exceeds the file size (" +
                     std::to_string(bytes.size()) + " bytes)");
  }
  const NpyHeader h = DictParser(bytes.substr(data_start, header_len), origin).parse();

  const std::uint64_t nbytes = io::checked_byte_size(h.shape, h.dtype, origin);
  const std::string_view data = bytes.substr(data_start + header_len);
  if (data.size() != nbytes) {
    fail(origin, std::string(dtype_name(h.dtype)) + " " + io::shape_string(h.shape) + " needs " +
                     std::to_string(nbytes) + " data bytes but the file has " +
                     std::to_string(data.size()));
  }
  const auto* src = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t item = dtype_size(h.dtype);
  const std::size_t numel = nbytes / item;
  if (h.dtype == DType::kBool) io::check_bool_bytes(src, nbytes, origin);

  HostTensor t;
  t.dtype = h.dtype;
  t.shape = h.shape;
  t.data =
      h.fortran_order ? fortran_to_c(src, h, numel) : std::vector<unsigned char>(src, src + nbytes);
  if (h.big_endian) {
    for (std::size_t i = 0; i < numel; ++i) {
      unsigned char* e = t.data.data() + i * item;
      for (std::size_t a = 0, b = item - 1; a < b; ++a, --b) std::swap(e[a], e[b]);
    }
  }
  std::vector<HostTensor> out;
  out.push_back(std::move(t));
  return out;
}

}  // namespace flakescope
