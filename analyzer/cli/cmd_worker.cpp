// `flakescope __worker`: runs one probe under a list of settings in this fresh process and writes
// the per-setting entries to a result file after each setting, so the parent keeps what finished
// even when a later setting crashes the process.
#include <boost/program_options.hpp>

#include <iostream>

#include "cli/commands.h"
#include "cli/probe_options.h"
#include "cli/probe_resolution.h"
#include "core/report.h"
#include "flakescope/error.h"
#include "flakescope/knobs.h"

namespace po = boost::program_options;

namespace flakescope::cli {

int cmd_worker(const CommandArgs& a) {
  ProbeTargetOptions target;
  std::string probe, settings, result;
  bool torchscript = false;
  po::options_description desc("worker");
  desc.add_options()("probe", po::value(&probe)->required(), "")("torchscript",
                                                                 po::bool_switch(&torchscript), "")(
      "settings", po::value(&settings)->required(), "")("result", po::value(&result)->required(),
                                                        "");
  add_target_options(desc, target);
  po::variables_map vm;
  po::store(po::command_line_parser(a.args).options(desc).run(), vm);
  po::notify(vm);

  ProbeRunOptions run = to_run_options(target);
  ProbeTarget t{probe, "", torchscript, false};
  if (torchscript) run.probe.model_path = probe;
  ProbeFactory factory = factory_for(t);
  // Process-level knobs are in this process's environment already; in-process ones apply per
  // setting. skip_cuda_only is irrelevant for an explicit list.
  nlohmann::json out = {{"settings", nlohmann::json::array()}};
  ControlledReference reference;  // shifts of later settings against "controlled" (if it is here)
  for (const Setting& s : parse_settings(settings, false)) {
    out["settings"].push_back(run_probe_setting(probe, factory, s, run, {}, &reference));
    write_file_atomic(result, out.dump());
  }
  return kExitOk;
}

}  // namespace flakescope::cli
