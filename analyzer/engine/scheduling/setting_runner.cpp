#include "engine/scheduling/setting_runner.h"

namespace flakescope {

nlohmann::json setting_json(const Setting& setting) {
  nlohmann::json knobs = nlohmann::json::object();
  for (Knob k : kAllKnobs)
    knobs[std::string(knob_name(k))] = setting.is_free(k) ? "free" : "controlled";
  return {{"setting", setting.name}, {"knobs", knobs}};
}

nlohmann::json failed_setting_entry(const Setting& setting, const std::string& why) {
  nlohmann::json e = setting_json(setting);
  e["runs"] = 0;
  e["verdict"] = "error";
  e["error"] = why;
  e["metrics"] = nlohmann::json::object();
  return e;
}

}  // namespace flakescope
