// safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length, a JSON
// header, then the data. The header is read with nlohmann_json's SAX interface instead of a DOM so
// that a hostile header (deep nesting, huge arrays) is refused at the first unexpected token and
// the bookkeeping stays bounded by the header length; the parser never throws.
#include <algorithm>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/reader_support.h"
#include "io/tensor_file.h"

namespace flakescope {
namespace {

using io::fail;
using io::printable;

std::optional<DType> safetensors_dtype(std::string_view s) {
  if (s == "F64") return DType::kFloat64;
  if (s == "F32") return DType::kFloat32;
  if (s == "F16") return DType::kFloat16;
  if (s == "BF16") return DType::kBFloat16;
  if (s == "I64") return DType::kInt64;
  if (s == "I32") return DType::kInt32;
  if (s == "I16") return DType::kInt16;
  if (s == "I8") return DType::kInt8;
  if (s == "U8") return DType::kUInt8;
  if (s == "BOOL") return DType::kBool;
  return std::nullopt;
}

struct Entry {
  std::string name;
  std::optional<DType> dtype;
  std::optional<std::vector<std::int64_t>> shape;
  std::vector<std::uint64_t> offsets;
  bool has_offsets = false;
};

// Accepts exactly: {name: {dtype: str, shape: [uint...], data_offsets: [uint, uint]},
// "__metadata__": {str: str}}. Every other token stops the parse with a message.
class HeaderHandler : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<Entry> entries;
  std::string error;

  bool null() override { return unexpected("null"); }
  bool boolean(bool) override { return unexpected("a boolean"); }
  bool number_integer(number_integer_t v) override {
    return v >= 0 ? number(static_cast<std::uint64_t>(v)) : unexpected("a negative number");
  }
  bool number_unsigned(number_unsigned_t v) override { return number(v); }
  bool number_float(number_float_t, const string_t&) override {
    return unexpected("a non-integer number");
  }
  bool binary(binary_t&) override { return unexpected("binary data"); }

  bool string(string_t& s) override {
    switch (state_) {
      case State::kMetadataValue:
        state_ = State::kMetadata;
        return true;
      case State::kTensorValue:
        if (field_ != "dtype") return unexpected("a string");
        entries.back().dtype = safetensors_dtype(s);
        if (!entries.back().dtype) {
          return set_error("tensor " + printable(entries.back().name) + " has unsupported dtype " +
                           printable(s));
        }
        state_ = State::kTensor;
        return true;
      default:
        return unexpected("a string");
    }
  }

  bool start_object(std::size_t) override {
    switch (state_) {
      case State::kStart:
        state_ = State::kTop;
        return true;
      case State::kTopValue:
        state_ = in_metadata_ ? State::kMetadata : State::kTensor;
        return true;
      default:
        return unexpected("an object");
    }
  }

  bool key(string_t& k) override {
    switch (state_) {
      case State::kTop:
        if (!names_.insert(k).second) return set_error("duplicate tensor name " + printable(k));
        in_metadata_ = k == "__metadata__";
        if (!in_metadata_) entries.push_back(Entry{k, {}, {}, {}, false});
        state_ = State::kTopValue;
        return true;
      case State::kMetadata:
        state_ = State::kMetadataValue;
        return true;
      case State::kTensor: {
        Entry& e = entries.back();
        const bool seen = (k == "dtype" && e.dtype) || (k == "shape" && e.shape) ||
                          (k == "data_offsets" && e.has_offsets);
        if (k != "dtype" && k != "shape" && k != "data_offsets") {
          return set_error("tensor " + printable(e.name) + " has unknown field " + printable(k));
        }
        if (seen)
          return set_error("tensor " + printable(e.name) + " repeats field " + printable(k));
        field_ = k;
        state_ = State::kTensorValue;
        return true;
      }
      default:
        return unexpected("a key");
    }
  }

  bool end_object() override {
    switch (state_) {
      case State::kTop:
        state_ = State::kDone;
        return true;
      case State::kMetadata:
        state_ = State::kTop;
        return true;
      case State::kTensor: {
        const Entry& e = entries.back();
        const char* missing = !e.dtype         ? "dtype"
                              : !e.shape       ? "shape"
                              : !e.has_offsets ? "data_offsets"
                                               : nullptr;
        if (missing) return set_error("tensor " + printable(e.name) + " lacks " + missing);
        state_ = State::kTop;
        return true;
      }
      default:
        return unexpected("the end of an object");
    }
  }

  bool start_array(std::size_t) override {
    if (state_ != State::kTensorValue || field_ == "dtype") return unexpected("an array");
    Entry& e = entries.back();
    if (field_ == "shape") {
      e.shape.emplace();
    } else {
      e.has_offsets = true;
    }
    state_ = State::kArray;
    return true;
  }

  bool end_array() override {
    if (state_ != State::kArray) return unexpected("the end of an array");
    Entry& e = entries.back();
    if (field_ == "data_offsets" && e.offsets.size() != 2) {
      return set_error("tensor " + printable(e.name) + " has " + std::to_string(e.offsets.size()) +
                       " data_offsets, not 2");
    }
    state_ = State::kTensor;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    // nlohmann's message quotes the offending bytes over several clauses; a position is enough.
    return set_error("header is not valid JSON (at byte " + std::to_string(position) + ")");
  }

 private:
  enum class State {
    kStart,
    kTop,
    kTopValue,
    kMetadata,
    kMetadataValue,
    kTensor,
    kTensorValue,
    kArray,
    kDone
  };

  bool number(std::uint64_t v) {
    if (state_ != State::kArray) return unexpected("a number");
    Entry& e = entries.back();
    if (field_ == "shape") {
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return set_error("tensor " + printable(e.name) + " has a dimension beyond int64");
      }
      if (e.shape->size() == kMaxTensorDims) {
        return set_error("tensor " + printable(e.name) + " has more than " +
                         std::to_string(kMaxTensorDims) + " dimensions");
      }
      e.shape->push_back(static_cast<std::int64_t>(v));
    } else {
      if (e.offsets.size() == 2)
        return set_error("tensor " + printable(e.name) + " has more than 2 data_offsets");
      e.offsets.push_back(v);
    }
    return true;
  }

  bool unexpected(const std::string& what) {
    const char* where = "";
    switch (state_) {
      case State::kStart:
        return set_error("header is not a JSON object (found " + what + ")");
      case State::kTopValue:
        where = in_metadata_ ? "__metadata__ is not an object" : "tensor entry is not an object";
        break;
      case State::kMetadataValue:
        where = "__metadata__ values must be strings";
        break;
      case State::kTensorValue:
      case State::kArray:
        where = "wrong type for field";
        break;
      default:
        where = "unexpected JSON";
        break;
    }
    std::string msg = std::string(where) + " (found " + what + ")";
    if (!entries.empty() && state_ != State::kTop && !in_metadata_) {
      msg += " in tensor " + printable(entries.back().name);
      if (state_ == State::kTensorValue || state_ == State::kArray) msg += " field " + field_;
    }
    return set_error(msg);
  }

  bool set_error(std::string msg) {
    if (error.empty()) error = std::move(msg);
    return false;
  }

  State state_ = State::kStart;
  bool in_metadata_ = false;
  std::string field_;
  std::set<std::string> names_;
};

}  // namespace

std::vector<HostTensor> parse_safetensors(std::string_view bytes, std::string_view origin) {
  if (bytes.size() < 8) {
    fail(origin, "too short for a safetensors header (" + std::to_string(bytes.size()) + " bytes)");
  }
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | static_cast<unsigned char>(bytes[i]);
  const std::uint64_t available = bytes.size() - 8;
  if (header_len > available) {
    fail(origin, "safetensors header length " + std::to_string(header_len) +
                     " exceeds the file size (" + std::to_string(bytes.size()) + " bytes)");
  }
  const std::string_view header = bytes.substr(8, header_len);
  const std::string_view data = bytes.substr(8 + header_len);

  HeaderHandler handler;
  const bool ok = nlohmann::json::sax_parse(header.begin(), header.end(), &handler,
                                            nlohmann::json::input_format_t::json, true, false);
  if (!ok || !handler.error.empty()) {
    fail(origin, handler.error.empty() ? std::string("header is not valid JSON") : handler.error);
  }

  // Offsets must tile the data exactly: sorted by (begin, end), each begins where the previous
  // ended, the last ends at the end of the data. That rules out overlaps, holes and trailing bytes.
  std::vector<Entry>& entries = handler.entries;
  for (const Entry& e : entries) {
    if (e.offsets[0] > e.offsets[1]) {
      fail(origin, "tensor " + printable(e.name) + " has data_offsets [" +
                       std::to_string(e.offsets[0]) + ", " + std::to_string(e.offsets[1]) +
                       "] that end before they begin");
    }
    if (e.offsets[1] > data.size()) {
      fail(origin, "tensor " + printable(e.name) + " ends at data offset " +
                       std::to_string(e.offsets[1]) + ", past the " + std::to_string(data.size()) +
                       " data bytes");
    }
    const std::uint64_t expected = io::checked_byte_size(*e.shape, *e.dtype, origin);
    if (e.offsets[1] - e.offsets[0] != expected) {
      fail(origin, "tensor " + printable(e.name) + " has " +
                       std::to_string(e.offsets[1] - e.offsets[0]) + " bytes but " +
                       std::string(dtype_name(*e.dtype)) + " " + io::shape_string(*e.shape) +
                       " needs " + std::to_string(expected));
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.offsets < b.offsets; });
  std::uint64_t cursor = 0;
  for (const Entry& e : entries) {
    if (e.offsets[0] < cursor) {
      fail(origin, "tensor " + printable(e.name) + " overlaps the previous tensor's data");
    }
    if (e.offsets[0] > cursor) {
      fail(origin, "data bytes " + std::to_string(cursor) + ".." + std::to_string(e.offsets[0]) +
                       " belong to no tensor");
    }
    cursor = e.offsets[1];
  }
  if (cursor != data.size()) {
    fail(origin, "data bytes " + std::to_string(cursor) + ".." + std::to_string(data.size()) +
                     " belong to no tensor");
  }

  std::vector<HostTensor> out;
  out.reserve(entries.size());
  for (Entry& e : entries) {
    HostTensor t;
    t.name = std::move(e.name);
    t.dtype = *e.dtype;
    t.shape = std::move(*e.shape);
    const auto* first = reinterpret_cast<const unsigned char*>(data.data()) + e.offsets[0];
    const auto* last = reinterpret_cast<const unsigned char*>(data.data()) + e.offsets[1];
    if (t.dtype == DType::kBool) io::check_bool_bytes(first, last - first, origin);
    t.data.assign(first, last);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace flakescope
