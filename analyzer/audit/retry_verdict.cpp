#include "audit/retry_verdict.h"

#include <cstdint>
#include <cstdio>

#include "stats/rates.h"

namespace flakescope::audit {
namespace {

std::string percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2g%%", rate * 100);
  return buf;
}

// The mechanism's own spelling of "at most `attempts` attempts".
std::string spelled(const std::string& mechanism, std::size_t attempts) {
  if (mechanism == "pytest-rerunfailures") return "reruns=" + std::to_string(attempts - 1);
  if (mechanism == "flaky") return "max_runs=" + std::to_string(attempts);
  return "max_attempts=" + std::to_string(attempts);
}

std::string verdict(const TestTally& t, const std::string& mechanism, const std::string& decorator,
                    std::size_t declared, const stats::RateEstimate& rate, std::size_t needed) {
  const std::string code = "`" + decorator + "`";
  if (t.trials() == 0) return "never ran (always skipped): nothing measured";
  if (t.failures() == 0)
    return "not flaky in " + std::to_string(t.trials()) + " runs (upper bound " +
           percent(rate.upper_one_sided) + "): remove the decorator";
  if (t.failures() == t.trials() || needed > stats::kMaxSensibleRetries + 1)
    return "fails more often than retrying can hide (" + percent(rate.point) +
           " of attempts failed, up to " + percent(rate.upper_one_sided) + "): fix the test";
  const std::string need = "`" + spelled(mechanism, needed) + "`";
  if (needed < declared) return code + " -> " + need + " suffices";
  if (needed == declared) return code + " is what the target needs: keep it";
  return code + " is too few: " + need + " keeps spurious failures under the target";
}

}  // namespace

std::vector<model::RetryMeasured> retry_verdicts(const std::vector<TestTally>& tests, double target,
                                                 double confidence) {
  std::vector<model::RetryMeasured> out;
  for (const TestTally& t : tests) {
    if (!t.retry.is_object()) continue;
    const std::string mechanism = t.retry.value("mechanism", std::string("retry"));
    const std::string decorator = t.retry.value("decorator", mechanism);
    const std::size_t declared = t.retry.value("attempts", std::size_t{1});
    const auto rate = stats::estimate_rate(t.failures(), t.trials(), confidence);
    const std::size_t retries = stats::retries_needed(rate.upper_one_sided, target);
    const std::size_t needed = retries == SIZE_MAX ? retries : retries + 1;
    model::RetryMeasured m;
    m.name = t.name;
    m.setting = t.setting;
    m.mechanism = mechanism;
    m.decorator = decorator;
    m.attempts_declared = static_cast<long>(declared);
    m.failures = static_cast<long>(t.failures());
    m.trials = static_cast<long>(t.trials());
    m.per_attempt_rate = rate.point;
    m.upper_one_sided = rate.upper_one_sided;
    m.target = target;
    if (retries != SIZE_MAX) m.attempts_needed = static_cast<long>(needed);
    m.verdict = verdict(t, mechanism, decorator, declared, rate, needed);
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace flakescope::audit
