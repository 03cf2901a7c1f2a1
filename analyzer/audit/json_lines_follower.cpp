#include "audit/json_lines_follower.h"

#include <cstdint>
#include <fstream>

namespace flakescope::audit {

JsonLinesFollower::JsonLinesFollower(std::string path, std::size_t max_lines)
    : path_(std::move(path)), max_lines_(max_lines) {}

void JsonLinesFollower::parse_line(const std::string& line) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return;
  if (lines_.size() >= max_lines_) return;
  lines_.push_back(nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false));
}

void JsonLinesFollower::poll() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  in.seekg(offset_);
  if (!in) return;
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += static_cast<long long>(chunk.size());
  std::size_t start = 0;
  for (std::size_t newline; (newline = chunk.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    if (partial_.empty()) {
      parse_line(chunk.substr(start, newline - start));
    } else {
      partial_.append(chunk, start, newline - start);
      parse_line(partial_);
      partial_.clear();
    }
  }
  partial_.append(chunk, start, std::string::npos);
}

std::vector<nlohmann::json> JsonLinesFollower::finish() {
  poll();
  if (!partial_.empty()) parse_line(partial_);
  partial_.clear();
  return std::move(lines_);
}

}  // namespace flakescope::audit
