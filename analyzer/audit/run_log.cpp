#include "audit/run_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "core/report.h"
#include "flakescope/error.h"

namespace flakescope::audit {
namespace {
// Run lines carry bounded output tails (a few KiB each): 4 GiB is millions of runs.
constexpr std::uintmax_t kMaxRunLogBytes = std::uintmax_t{4} << 30;
}  // namespace

nlohmann::json header_to_json(const RunLogHeader& header) {
  return {{"runlog", std::string(kRunLogSchema)},
          {"command", header.command},
          {"config", header.config},
          {"created", header.created}};
}

RunLog read_run_log(const std::string& path) {
  // Streamed line by line: memory is the records, not a copy of the file's text.
  check_input_file(path, kMaxRunLogBytes, "run logs");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open run log (missing or unreadable)");
  RunLog log;
  log.path = path;
  std::size_t pos = 0, line_no = 0;
  bool have_header = false;
  std::string text_line;
  while (std::getline(in, text_line)) {
    if (in.eof()) {
      // No newline: the writer was killed mid-line. Everything before it stands.
      if (!text_line.empty()) log.had_partial_line = true;
      break;
    }
    const std::string_view line(text_line);
    ++line_no;
    pos += text_line.size() + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      log.complete_bytes = pos;
      continue;
    }
    const auto where = path + ":" + std::to_string(line_no) + ": ";
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) throw InputError(where + "not a JSON line");
    // A field of the wrong JSON type makes nlohmann's accessors throw their own exceptions; that is
    // bad input (exit 2), not an internal error (found by tests/fuzz/fuzz_run_log).
    try {
      if (!have_header) {
        if (!j.is_object() || j.value("runlog", std::string()) != kRunLogSchema)
          throw InputError(where + "not a flakescope run log (expected a \"runlog\": \"" +
                           std::string(kRunLogSchema) + "\" header)");
        if (!j.contains("command") || !j["command"].is_array())
          throw InputError(where + "run log header has no \"command\"");
        log.header.command = j["command"].get<std::vector<std::string>>();
        if (j.contains("config") && j["config"].is_object()) log.header.config = j["config"];
        log.header.created = j.value("created", std::string());
        have_header = true;
      } else {
        try {
          log.records.push_back(run_record_from_json(j));
        } catch (const InputError& e) {
          throw InputError(where + e.what());
        }
      }
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + "malformed line: " + e.what());
    }
    log.complete_bytes = pos;
  }
  if (in.bad()) throw InputError(path + ": read error");
  if (!have_header) throw InputError(path + ": empty run log (no header line)");
  return log;
}

namespace {

std::FILE* open_or_throw(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST)
      throw InputError(path + ": run log exists (use --resume to continue it, or remove it)");
    throw InputError(path + ": cannot open run log: " + std::strerror(errno));
  }
  std::FILE* f = ::fdopen(fd, "a");
  if (!f) {
    ::close(fd);
    throw InputError(path + ": cannot open run log: " + std::strerror(errno));
  }
  return f;
}

}  // namespace

RunLogWriter RunLogWriter::create(const std::string& path, const RunLogHeader& header) {
  RunLogWriter w(path, open_or_throw(path, O_CREAT | O_EXCL | O_APPEND));
  w.write_line(header_to_json(header));
  return w;
}

RunLogWriter RunLogWriter::resume(const RunLog& existing) {
  if (existing.had_partial_line &&
      ::truncate(existing.path.c_str(), static_cast<off_t>(existing.complete_bytes)) != 0)
    throw InputError(existing.path + ": cannot cut the partial last line: " + std::strerror(errno));
  return RunLogWriter(existing.path, open_or_throw(existing.path, O_APPEND));
}

RunLogWriter::RunLogWriter(RunLogWriter&& other) noexcept
    : path_(std::move(other.path_)), file_(other.file_) {
  other.file_ = nullptr;
}

RunLogWriter::~RunLogWriter() {
  if (file_) std::fclose(file_);
}

void RunLogWriter::write_line(const nlohmann::json& j) {
  // Invalid UTF-8 in a captured output tail must not make the line unwritable.
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0 ||
      ::fsync(::fileno(file_)) != 0)
    throw InputError(path_ + ": cannot write run log: " + std::strerror(errno));
}

void RunLogWriter::append(const RunRecord& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  write_line(to_json(record));
}

namespace {

// A shard of `audit --runs auto --isolation inprocess`: its shards split the tests, not the runs.
bool splits_tests(const RunLog& log) {
  const nlohmann::json& c = log.header.config;
  return c.value("runs", nlohmann::json()) == "auto" && c.contains("shard") &&
         c.value("isolation", std::string()) == "inprocess";
}

// Adds `other`'s testcases to `into` (the same run of another shard of the tests); false when a
// testcase is in both (the shards overlap).
bool join_testcases(RunRecord& into, const RunRecord& other) {
  std::set<std::string> names;
  for (const auto& t : into.testcases) names.insert(t.name);
  for (const auto& t : other.testcases)
    if (!names.insert(t.name).second) return false;
  into.testcases.insert(into.testcases.end(), other.testcases.begin(), other.testcases.end());
  into.captures.insert(into.captures.end(), other.captures.begin(), other.captures.end());
  into.duration += other.duration;
  if (is_failure(other.outcome) && !is_failure(into.outcome)) {
    into.outcome = other.outcome;
    into.exit_code = other.exit_code;
  }
  return true;
}

}  // namespace

RunLog merge_run_logs(const std::vector<RunLog>& logs) {
  if (logs.empty()) throw InputError("merge needs at least one run log");
  RunLog merged;
  merged.header = logs.front().header;
  merged.header.config.erase("shard");
  merged.path = logs.front().path;
  std::map<std::pair<std::string, std::size_t>, std::string> seen;
  std::map<std::pair<std::string, std::size_t>, std::size_t> index;  // into merged.records
  for (const RunLog& log : logs) {
    if (log.header.command != logs.front().header.command)
      throw InputError(log.path + ": a run log of another command than " + logs.front().path +
                       " (merge only shards of the same audit)");
    const auto seed_of = [](const RunLog& l) { return l.header.config.value("seed", 0ull); };
    if (seed_of(log) != seed_of(logs.front()))
      throw InputError(log.path + ": written with --seed " + std::to_string(seed_of(log)) +
                       " but " + logs.front().path + " with --seed " +
                       std::to_string(seed_of(logs.front())));
    const bool tests_split = splits_tests(log);
    for (const RunRecord& r : without_superseded(log.records)) {
      auto [it, inserted] = seen.emplace(std::make_pair(r.setting, r.run), log.path);
      if (inserted) {
        index[{r.setting, r.run}] = merged.records.size();
        merged.records.push_back(r);
        continue;
      }
      // Shards of a suite audit hold the same runs of different tests: one run, their union.
      if (!tests_split || !join_testcases(merged.records[index[{r.setting, r.run}]], r))
        throw InputError("run " + std::to_string(r.run) + " (setting " + r.setting + ") is in " +
                         it->second + " and " + log.path +
                         ": the shards overlap (give each shard its own --shard K/N)");
    }
  }
  return merged;
}

std::vector<RunRecord> without_superseded(const std::vector<RunRecord>& records) {
  // The last record of a (setting, run) wins when the earlier ones were incomplete: `--resume`
  // appends the whole run again after the interrupted part of it.
  std::map<std::pair<std::string, std::size_t>, std::size_t> last;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto key = std::make_pair(records[i].setting, records[i].run);
    const auto it = last.find(key);
    if (it == last.end() || records[it->second].incomplete) last[key] = i;
  }
  std::vector<RunRecord> out;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto key = std::make_pair(records[i].setting, records[i].run);
    const std::size_t keep = last.at(key);
    // A complete duplicate (not superseding an incomplete one) stays, for the overlap error.
    if (i == keep || !records[i].incomplete) out.push_back(records[i]);
  }
  return out;
}

}  // namespace flakescope::audit
