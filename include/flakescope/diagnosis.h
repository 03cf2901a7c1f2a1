#pragma once
// The ablation diagnosis: which knobs, when freed, make a probe's output move.
// Works on the report JSON alone, so it also explains reports merged or loaded from disk.
#include <nlohmann/json.hpp>

namespace flakescope {

// From probe["settings"] (the entries of one probe), returns
// {"causes": [knob names], "summary": "sentence(s)", "fixes": ["..."],
//  "controlled": "bitwise-deterministic"|..., "raises_when_controlled": bool}.
nlohmann::json diagnose_probe(const nlohmann::json& probe);

}  // namespace flakescope
