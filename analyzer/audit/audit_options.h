#pragma once
// The options of one audit, parsed once at the edge (cmd_audit) and validated here.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/junit_plan.h"
#include "core/run_count.h"
#include "flakescope/knobs.h"

namespace flakescope::audit {

// How the runs of a pytest command are isolated from each other. `kProcess`: one process per run.
// `kInprocess`: each of `jobs` pytest processes repeats every selected test for a consecutive
// block of runs (the flakescope pytest plugin's FLAKESCOPE_REPEAT), which saves the interpreter
// start and the imports per run; see analyzer/audit/inprocess_chunk.h.
enum class Isolation { kProcess, kInprocess };

std::string_view isolation_name(Isolation isolation);
// "process" or "inprocess"; throws InputError otherwise.
Isolation parse_isolation(const std::string& text);

struct AuditOptions {
  std::vector<std::string> command;  // argv of the test command, executed without a shell

  std::size_t runs = 20;   // per setting; with runs_auto, the cap (--max-runs)
  bool runs_auto = false;  // adaptive: batches until the rates are known well enough
  // The `auto` schedule (flakescope/run_count.h, RunCountUse::kAudit), set by parse_run_count.
  std::size_t auto_min_runs = auto_schedule(RunCountUse::kAudit).min_runs;
  std::size_t auto_batch = auto_schedule(RunCountUse::kAudit).batch;
  std::size_t jobs = 1;  // processes at a time (with kInprocess: also the processes per setting)
  Isolation isolation = Isolation::kProcess;
  double timeout_seconds = 600;
  double kill_grace_seconds = 2;
  std::size_t output_tail_bytes = 4096;

  JunitMode junit = JunitMode::kAuto;
  std::string junit_path;  // with JunitMode::kPath

  // Settings the command runs under, the first is the reference of the ablation. Without
  // --ablation: one setting (all controlled, or the knobs named by --vary freed).
  std::vector<Setting> settings = {all_controlled()};
  bool ablation = false;

  std::uint64_t seed = 1;  // run i gets FLAKESCOPE_SEED = seed + i, the same in every setting
  // This process runs the i with i % count == index; with kInprocess the index-th of `count`
  // contiguous blocks of [0, runs), so that each pytest process repeats consecutive seeds.
  std::size_t shard_index = 0, shard_count = 1;

  double target = 1e-4;  // spurious failure rate the retry recommendation aims for
  double confidence = 0.95;

  bool capture = false;      // set FLAKESCOPE_CAPTURE and keep the assertion lines
  std::string scratch_root;  // per-run folders go here; empty: a fresh folder under $TMPDIR

  // Throws InputError for an empty command, zero runs or jobs, a bad shard, target or confidence,
  // and for kInprocess with a command that is not pytest or with --junit PATH.
  void validate() const;
  // Whether run `run` (of [0, runs)) belongs to this shard.
  bool in_shard(std::size_t run) const;
  // What the run log header and the report record as "config" (enough to resume and to replay).
  nlohmann::json to_json() const;
};

// Parses "K/N" (0 <= K < N). Throws InputError.
std::pair<std::size_t, std::size_t> parse_shard(const std::string& text);

// The settings for `--vary` (comma list of knobs freed together) and `--ablation` (all controlled,
// each knob alone freed, all free; the knobs from --vary, or the defaults). Throws InputError.
std::vector<Setting> audit_settings(const std::vector<std::string>& vary, bool ablation);

}  // namespace flakescope::audit
