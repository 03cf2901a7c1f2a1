// Reading a tensor file from disk: size check first, then the format by magic bytes (extension as
// a fallback), then the in-memory parser.
#include "io/tensor_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "io/reader_support.h"

namespace flakescope {

std::int64_t HostTensor::numel() const {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;  // the readers checked it fits
  return n;
}

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<TensorFileFormat> detect_tensor_file_format(std::string_view head,
                                                          std::string_view path) {
  if (head.substr(0, 6) == "\x93NUMPY") return TensorFileFormat::kNpy;
  // torch.save: a zip archive since PyTorch 1.6, a bare pickle (protocol 2: 0x80 0x02) before.
  if (head.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return TensorFileFormat::kTorchSave;
  // safetensors: an 8-byte length, then the JSON header's '{'. Checked before the pickle opcode
  // because a header length such as 640 also begins with the bytes 0x80 0x02.
  if (head.size() > 8 && head[8] == '{') return TensorFileFormat::kSafetensors;
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 &&
      head[1] <= 5) {
    return TensorFileFormat::kTorchSave;
  }
  if (ends_with(path, ".safetensors")) return TensorFileFormat::kSafetensors;
  if (ends_with(path, ".npy")) return TensorFileFormat::kNpy;
  if (ends_with(path, ".pt") || ends_with(path, ".pth")) return TensorFileFormat::kTorchSave;
  return std::nullopt;
}

std::string read_bounded_file(const std::string& path, std::uint64_t max_bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) io::fail(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) io::fail(path, "not a regular file");
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    io::fail(path, std::to_string(st.st_size) + " bytes, more than the " +
                       std::to_string(max_bytes) + " a tensor file may have");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) io::fail(path, "cannot open for reading");
  std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  // The file may have shrunk or grown since stat; what was read is what is parsed, up to the bound.
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) io::fail(path, "read error");
  return bytes;
}

std::vector<HostTensor> read_tensor_file(const std::string& path) {
  const std::string bytes = read_bounded_file(path);
  const auto format = detect_tensor_file_format(std::string_view(bytes).substr(0, 16), path);
  if (!format) {
    io::fail(path, "not a recognised tensor file (expected safetensors, .npy or torch.save)");
  }
  switch (*format) {
    case TensorFileFormat::kSafetensors:
      return parse_safetensors(bytes, path);
    case TensorFileFormat::kNpy:
      return parse_npy(bytes, path);
    case TensorFileFormat::kTorchSave:
      break;
  }
  io::fail(path, "a torch.save file needs the LibTorch reader (read_torch_save)");
}

}  // namespace flakescope
