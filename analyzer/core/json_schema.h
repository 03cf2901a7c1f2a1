#pragma once
// A JSON Schema checker for the subset reports/schema/report.schema.json uses (type, const, enum,
// required, properties, additionalProperties, items, minItems, maxItems, minimum, maximum,
// pattern, $ref to "#/$defs/...", allOf, oneOf, if/then). Loading a report checks it against the
// schema so that a hand-edited or foreign file is refused with the path of the offending field,
// instead of being read with silent defaults.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace flakescope::core {

struct SchemaViolation {
  std::string path;     // JSON pointer of the offending value ("/probes/0/settings/1/verdict")
  std::string message;  // what is wrong ("is \"maybe\", expected one of ...")
};

// The first violation of `doc` against `schema` (depth first, in document order), or nullopt.
std::optional<SchemaViolation> check_schema(const nlohmann::json& doc, const nlohmann::json& schema);

// reports/schema/report.schema.json, compiled into the binary.
const nlohmann::json& report_schema();

}  // namespace flakescope::core
