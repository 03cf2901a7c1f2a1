#pragma once
// The run log: JSON lines, a header line then one line per finished run, each flushed and fsynced
// as the run finishes. An interrupted audit loses at most the runs that were still going, resumes
// from the log, and logs from several machines or CI shards merge into one set of runs.
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/run_record.h"

namespace flakescope::audit {

inline constexpr std::string_view kRunLogSchema = "flakescope.runlog/1";

struct RunLogHeader {
  std::vector<std::string> command;
  nlohmann::json config = nlohmann::json::object();
  std::string created;
};

struct RunLog {
  std::string path;
  RunLogHeader header;
  std::vector<RunRecord> records;
  // Bytes up to the end of the last complete line. A process killed while writing leaves a partial
  // last line; it is ignored when reading and cut off before appending.
  std::size_t complete_bytes = 0;
  bool had_partial_line = false;
};

// Throws InputError naming the file and line for a missing file, a missing or foreign header, or a
// complete line that is not a run record.
RunLog read_run_log(const std::string& path);

// Appends run lines; thread-safe. `create` writes a new file with `header` (the file must not
// exist); `resume` opens an existing log, cutting a partial last line first.
class RunLogWriter {
 public:
  static RunLogWriter create(const std::string& path, const RunLogHeader& header);
  static RunLogWriter resume(const RunLog& existing);
  RunLogWriter(RunLogWriter&& other) noexcept;
  RunLogWriter& operator=(RunLogWriter&&) = delete;
  RunLogWriter(const RunLogWriter&) = delete;
  ~RunLogWriter();

  // Writes one line, flushes and fsyncs it. Throws InputError when the write fails.
  void append(const RunRecord& record);
  const std::string& path() const { return path_; }

 private:
  RunLogWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  void write_line(const nlohmann::json& j);

  std::string path_;
  std::FILE* file_ = nullptr;
  std::mutex mutex_;
};

nlohmann::json header_to_json(const RunLogHeader& header);

// All runs of several logs as one set. The logs must be of the same command; a (setting, run) pair
// present in two logs means the shards overlap and throws InputError naming both files.
// The merged header is the first log's, with the shard removed from its config.
RunLog merge_run_logs(const std::vector<RunLog>& logs);

// The records of one log with every incomplete record dropped that a later record of the same
// (setting, run) replaces (an interrupted in-process run that `--resume` ran again).
std::vector<RunRecord> without_superseded(const std::vector<RunRecord>& records);

}  // namespace flakescope::audit
