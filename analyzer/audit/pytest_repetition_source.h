#pragma once
// The RepetitionSource of an in-process pytest audit: one pytest process per call, with the
// flakescope plugin repeating the selected tests (FLAKESCOPE_SELECT, FLAKESCOPE_REPEAT,
// FLAKESCOPE_SEED = seed + first run) and recording outcomes (with `drew_random` when the plugin
// reports it) and assertion captures, the evidence of the adaptive allocation.
// A process that dies leaves the repetitions it reached; the test it died in is recorded as
// crash (or timeout) for the first repetition it did not finish, and the repetitions it never
// reached stay unobserved (an undecided test gets them in a later batch).
#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "audit/audit_options.h"
#include "audit/executor.h"
#include "audit/suite_allocation.h"

namespace flakescope::audit {

class PytestRepetitionSource final : public RepetitionSource {
 public:
  // `options` gives the command, the first setting, seed, timeout and scratch root.
  PytestRepetitionSource(const AuditOptions& options, Executor& executor,
                         const std::atomic<bool>* cancel);
  ~PytestRepetitionSource() override;
  std::vector<RepetitionObservation> run(const std::vector<std::string>& tests,
                                         std::size_t first_run, std::size_t count) override;
  // The node ids the first process selected (FLAKESCOPE_COLLECTED), empty before.
  std::vector<std::string> collected() const;
  // The node ids the command selects, from a `--collect-only` run of it (nothing is run).
  // Throws InputError when pytest collected nothing or could not start.
  std::vector<std::string> collect();

 private:
  const AuditOptions& options_;
  Executor& executor_;
  const std::atomic<bool>* cancel_;
  std::string scratch_root_;
  bool owns_root_ = false;
  mutable std::mutex mutex_;
  std::size_t calls_ = 0;
  std::vector<std::string> collected_;
};

}  // namespace flakescope::audit
