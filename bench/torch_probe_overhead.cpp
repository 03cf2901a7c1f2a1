// Benchmark of the probe engine (issue 2), printed as a table; not a timed test.
//
// (1) Repetition overhead: probing ops/matmul_* N times in this process (settings applied, outputs
//     copied to host, compared with run 0, hashed, Welford-accumulated) against a bare LibTorch
//     loop of the same op on the same inputs. Interleaved rounds, best of each, so machine noise
//     hits both sides alike. Goal: ratio <= 1.05.
// (2) Peak memory: `flakescope probe PROBE --runs N --isolation none` as a child process for
//     N = 100 and N = 10000 on a large-output probe; ru_maxrss of each. Goal: ratio <= 1.1.
//
//   torch_probe_overhead [--runs 1000] [--rounds 5] [--memory-probe ops/softmax] [--skip-memory]
#include <ATen/Parallel.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/randn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/probe_runner.h"
#include "flakescope/probe.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Peak RSS (KiB) of `flakescope probe ... --runs N` run as a child.
long child_peak_rss_kib(const std::string& probe, int runs, double* wall) {
  const std::string out = "/tmp/flakescope-bench-mem-" + std::to_string(getpid()) + ".json";
  std::vector<std::string> args = {FLAKESCOPE_CLI, "probe", probe, "--runs", std::to_string(runs),
                                   "--settings", "controlled", "--isolation", "none", "--threads",
                                   "1", "--out", out, "--json"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    FILE* devnull = std::fopen("/dev/null", "w");
    if (devnull) dup2(fileno(devnull), STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  *wall = seconds(t0, Clock::now());
  std::remove(out.c_str());
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 1000, rounds = 5;
  bool skip_memory = false;
  std::string memory_probe = "ops/softmax";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (a == "--memory-probe" && i + 1 < argc) memory_probe = argv[++i];
    else if (a == "--skip-memory") skip_memory = true;
    else {
      std::fprintf(stderr, "usage: %s [--runs N] [--rounds R] [--memory-probe P] [--skip-memory]\n", argv[0]);
      return 2;
    }
  }
  at::set_num_threads(1);
  std::printf("flakescope probe engine benchmark (1 intra-op thread, %d runs, best of %d rounds)\n\n",
              runs, rounds);
  std::printf("%-18s %12s %12s %12s %8s\n", "probe", "bare s", "flakescope s", "per-run us", "ratio");
  for (const char* name : {"ops/matmul_small", "ops/matmul_large"}) {
    const flakescope::ProbeInfo* info = flakescope::ProbeRegistry::instance().find(name);
    if (!info) {
      std::printf("%-18s not registered\n", name);
      continue;
    }
    const std::int64_t n = std::string(name) == "ops/matmul_small" ? 64 : 1024;
    const int r = n == 64 ? runs : std::max(20, runs / 20);  // the large one is ~0.1 s per run
    auto gen = at::detail::createCPUGenerator(1);
    at::Tensor a = at::randn({n, n}, gen), b = at::randn({n, n}, gen);
    flakescope::ProbeRunOptions o;
    o.count = flakescope::fixed_run_count(static_cast<std::size_t>(r));
    o.threads = {1};
    double best_bare = 1e300, best_tool = 1e300;
    for (int round = 0; round < rounds; ++round) {
      auto t0 = Clock::now();
      for (int i = 0; i < r; ++i) {
        at::Tensor out = at::matmul(a, b);
        (void)out.data_ptr();
      }
      best_bare = std::min(best_bare, seconds(t0, Clock::now()));
      t0 = Clock::now();
      auto entry = flakescope::run_probe_setting(name, info->make, flakescope::all_controlled(), o);
      best_tool = std::min(best_tool, seconds(t0, Clock::now()));
      if (entry["verdict"] != "bitwise-deterministic")
        std::fprintf(stderr, "note: %s was %s\n", name, entry["verdict"].dump().c_str());
    }
    std::printf("%-18s %12.4f %12.4f %12.2f %8.3f   (%d runs)\n", name, best_bare, best_tool,
                (best_tool - best_bare) / r * 1e6, best_tool / best_bare, r);
  }
  if (!skip_memory) {
    std::printf("\npeak memory of `flakescope probe %s --settings controlled --isolation none`\n",
                memory_probe.c_str());
    std::printf("%-8s %14s %10s\n", "runs", "max RSS MiB", "wall s");
    long base = 0;
    for (int n : {100, 10000}) {
      double wall = 0;
      long kib = child_peak_rss_kib(memory_probe, n, &wall);
      if (kib < 0) {
        std::printf("%-8d %14s\n", n, "failed");
        continue;
      }
      if (!base) base = kib;
      std::printf("%-8d %14.1f %10.1f   ratio to N=100: %.3f\n", n, kib / 1024.0, wall,
                  double(kib) / double(base));
    }
  }
  return 0;
}
