// The worker's argv is serialized from the probe's options struct: parsing it back with the same
// option table gives the same struct, field for field, so parent and worker cannot disagree.
#include <gtest/gtest.h>

#include <boost/program_options.hpp>

#include "cli/probe_options.h"
#include "flakescope/error.h"

namespace po = boost::program_options;

namespace flakescope::cli {
namespace {

ProbeTargetOptions parse_back(const std::vector<std::string>& argv) {
  ProbeTargetOptions back;
  back.seed = 0;
  back.dtype = back.device = back.input_dtype = "";
  po::options_description desc;
  add_target_options(desc, back);
  po::variables_map vm;
  po::store(po::command_line_parser(argv).options(desc).run(), vm);
  po::notify(vm);
  return back;
}

TEST(ProbeOptions, WorkerArgvRoundTrips) {
  ProbeTargetOptions o;
  o.runs = "auto";
  o.max_runs = "120";
  o.target = 1e-3;
  o.confidence = 0.9;
  o.threads = "2,1";
  o.dtype = "float64";
  o.device = "cuda";
  o.input_shape = "4,3,32,32";
  o.input_dtype = "float16";
  o.seed = 18446744073709551615ULL;
  o.train_steps = 7;
  o.expected = "/tmp/expected file.safetensors";
  EXPECT_EQ(parse_back(to_worker_args(o)), o);
}

TEST(ProbeOptions, DefaultsRoundTripAndAwkwardDoubles) {
  ProbeTargetOptions o;
  EXPECT_EQ(parse_back(to_worker_args(o)), o);
  o.target = 1.0 / 3.0 * 1e-7;  // std::to_string would print 0.000000
  o.confidence = 0.999999999;
  EXPECT_EQ(parse_back(to_worker_args(o)), o);
}

TEST(ProbeOptions, TargetAndConfidenceReachTheRunOptions) {
  ProbeTargetOptions o;
  o.runs = "auto";
  o.target = 1e-3;
  o.confidence = 0.99;
  const ProbeRunOptions r = to_run_options(o);
  EXPECT_DOUBLE_EQ(r.target, 1e-3);
  EXPECT_DOUBLE_EQ(r.confidence, 0.99);
  EXPECT_TRUE(r.count.adaptive);
  EXPECT_EQ(r.count.min_runs, 50u);
  EXPECT_EQ(r.count.batch, 50u);
  o.target = 1.5;
  EXPECT_THROW(to_run_options(o), InputError);
}

}  // namespace
}  // namespace flakescope::cli
