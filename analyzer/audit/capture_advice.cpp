// The advice text and diff of one assertion site (see analyzer/audit/capture_advice.h).
#include "audit/capture_advice.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "audit/assertion_rewrite.h"
#include "stats/rates.h"

namespace flakescope::capture_internal {
namespace {

namespace ci = capture_internal;

// "20", "210", "2.3e+06": how many times; an integer below a million, three digits above.
std::string factor_text(double factor) {
  char buffer[32];
  if (factor < 10)  // "1.1 times under", not "1 times"
    std::snprintf(buffer, sizeof buffer, "%.2g", factor);
  else if (factor < 1e6)
    std::snprintf(buffer, sizeof buffer, "%.0f", std::round(factor));
  else
    std::snprintf(buffer, sizeof buffer, "%.2g", factor);
  return buffer;
}

// "25 times the largest observed deviation", or for a threshold on a value far from 0, how far
// beyond the smallest run in spreads of the runs (capture_analysis' threshold_extrapolation).
std::string extrapolation_text(const model::AssertionRecommendation& rec) {
  const std::string factor = factor_text(rec.extrapolation.value_or(0));
  if (rec.extra.value("extrapolation_from", std::string()) == "smallest run")
    return factor + " times as far beyond the smallest run as the largest run was";
  return factor + " times the largest observed deviation";
}

std::string format_target(double target) {
  const double exponent = std::round(std::log10(target));
  if (std::abs(target - std::pow(10.0, exponent)) <= 1e-12 * target) {
    return "1e" + std::to_string(static_cast<int>(exponent));
  }
  return ci::format_tolerance(target);
}

std::string format_confidence(double confidence) {
  return ci::format_tolerance(std::round(confidence * 1e6) / 1e4) + "%";
}

// Line `number` (1-based) of `path`, or nullopt.
std::optional<std::string> read_source_line(const std::string& path, std::size_t number) {
  if (number == 0) return std::nullopt;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string line;
  for (std::size_t i = 1; std::getline(in, line); ++i) {
    if (i == number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
  }
  return std::nullopt;
}

std::string source_path(const std::string& root, const std::string& file) {
  if (file.empty() || file[0] == '/' || root.empty()) return file;
  return root.back() == '/' ? root + file : root + "/" + file;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Whether the call passes `keyword=` (by name; a positional tolerance cannot be told apart).
bool passes_keyword(const ci::AssertionCall& call, const std::string& keyword) {
  for (const std::string& arg : call.args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos) continue;
    std::string name = arg.substr(0, eq);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name == keyword) return true;
  }
  return false;
}

// The helper's parameter that carries the comparison's atol: `atol` when it takes one, else the
// one tolerance parameter whose value inside the helper was the compared atol (captum's
// `assertTensorAlmostEqual(..., delta=)` forwards delta as assertAlmostEqual's delta); empty when
// none can be told.
std::string helper_atol_parameter(const ci::SiteFacts& facts, double current_atol) {
  if (contains(facts.via_accepts, "atol")) return "atol";
  std::string found;
  for (const auto& [name, value] : facts.via_values) {
    // (For numpy's decimal APIs the current "atol" handed in is the decimal d itself.)
    if (name == "rtol" || name == "places" || value != current_atol) continue;
    if (!found.empty()) return "";  // two parameters hold it: which one is forwarded is unknown
    found = name;
  }
  return found;
}

// Where the site's call passes `name`: its position among the positional arguments, or -1 (by
// keyword, or not at all).
int passed_position(const ci::SiteFacts& facts, const std::string& name) {
  const auto it = facts.via_passed.find(name);
  return it == facts.via_passed.end() ? -1 : it->second;
}

// The test's line rewritten for `atol` (and `rtol`), or nullopt when it cannot be done safely.
// `helper_note` says where the tolerance lives when a testing helper holds it.
// `source` is the site's line, or (`in_place`) the lines from it to where its call closes, which
// are edited argument by argument so that their layout stays.
std::optional<std::string> rewritten_line(const std::string& source, const std::string& api,
                                          const ci::SiteFacts& facts, double current_atol,
                                          double rtol, double atol, std::string* shown,
                                          std::string* helper_note, bool in_place = false) {
  // A helper that forwards both tolerances to assert_close needs both ("Both 'rtol' and 'atol'
  // must be either specified or omitted"): the rtol in force goes with the new atol unless the
  // line already passes one.
  const std::string keyword = helper_atol_parameter(facts, current_atol);
  const bool add_rtol = keyword == "atol" && contains(facts.via_accepts, "rtol");
  const int at = passed_position(facts, keyword), rtol_at = passed_position(facts, "rtol");
  const auto keyword_edit = [&](const ci::AssertionCall& call) {
    const bool with_rtol = add_rtol && !passes_keyword(call, "rtol") && rtol_at < 0;
    std::string shown_call = ci::rewrite_keyword(call, keyword, atol, at);
    if (with_rtol)
      if (auto c = ci::find_assertion_call(shown_call, "helper:" + facts.via_function))
        shown_call = ci::rewrite_keyword(*c, "rtol", rtol);
    *shown = shown_call;
    if (!in_place) return source.substr(0, call.begin) + *shown + source.substr(call.end);
    std::string text = ci::rewrite_keyword_in_place(source, call, keyword, atol, at);
    if (with_rtol)
      if (auto c = ci::find_assertion_call(text, "helper:" + facts.via_function))
        text = ci::rewrite_keyword_in_place(text, *c, "rtol", rtol);
    return text;
  };
  if (api == "threshold") {
    if (in_place) return std::nullopt;
    auto line = ci::replace_number_literal(source, current_atol, atol);
    if (line)
      *shown =
          "threshold " + (facts.op.empty() ? "<" : facts.op) + " " + ci::format_tolerance(atol);
    return line;
  }
  if (!facts.via.empty() && facts.tolerance_at == "via") {
    *helper_note = "the tolerance lives in the helper " + facts.via_function + "() at " + facts.via;
    if (keyword.empty()) {
      *helper_note += ", which takes no per-call override: change it there (every caller)";
      return std::nullopt;
    }
    *helper_note += ", which takes " + keyword + "= per call: pass it at the test's line";
    const auto call = ci::find_assertion_call(source, "helper:" + facts.via_function);
    if (!call) return std::nullopt;
    return keyword_edit(*call);
  }
  const std::string callee = facts.via.empty() ? api : "helper:" + facts.via_function;
  const auto call = ci::find_assertion_call(source, callee);
  if (!call) return std::nullopt;
  for (const std::string& arg : call->args)
    if (!arg.empty() && arg[0] == '*') {
      // monai's `np.testing.assert_allclose(actual, desired, *args, **kwargs)`: a literal there
      // would replace every caller's own arguments.
      *helper_note = "the call passes `" + arg + "` on: set the tolerance where that comes from";
      return std::nullopt;
    }
  // `atol=TOL` or `atol=atol`: the number lives where the name is defined; a literal here would
  // silently fork it. An rtol given as a name is kept (the recommendation keeps the rtol in
  // force): only atol is written then.
  const auto named = [&](const char* keyword) -> std::optional<std::string> {
    const std::string prefix = std::string(keyword) + "=";
    for (const std::string& arg : call->args) {
      if (arg.rfind(prefix, 0) != 0) continue;
      const std::string value = arg.substr(prefix.size());
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') return value;
    }
    return std::nullopt;
  };
  // (Any keyword the edit would write: tensorly's `decimal=PREC_DBL` was replaced by a literal,
  // forking the constant that its other lines still read.)
  for (const char* keyword : {"atol", "delta", "decimal", "abs"})
    if (const auto name = named(keyword)) {
      *helper_note = std::string(keyword) + " is given as `" + *name +
                     "`: set the value where that is defined";
      return std::nullopt;
    }
  const bool rtol_is_a_name = named("rtol").has_value();
  if (api == "unittest.assertAlmostEqual" && facts.via.empty()) {
    std::size_t positional = 0;
    for (const std::string& arg : call->args) positional += arg.find('=') == std::string::npos;
    if (passes_keyword(*call, "places") || positional > 2) {
      *helper_note = "the call passes places=: write delta=" + ci::format_tolerance(atol) +
                     " in its place (unittest takes one or the other)";
      return std::nullopt;
    }
  }
  if (!facts.via.empty()) {
    if (keyword.empty()) {
      *helper_note = "the line passes the helper " + facts.via_function +
                     "() a tolerance that is not the compared one (it does not reach the "
                     "comparison as it is): change how the helper uses it";
      return std::nullopt;
    }
    return keyword_edit(*call);
  }
  if (rtol_is_a_name && facts.via.empty()) {
    *shown = ci::rewrite_keyword(*call, "atol", atol);
    if (in_place) return ci::rewrite_keyword_in_place(source, *call, "atol", atol);
    return source.substr(0, call->begin) + *shown + source.substr(call->end);
  }
  *shown = ci::rewrite_call(*call, api, rtol, atol);
  if (in_place) return ci::rewrite_in_place(source, *call, api, rtol, atol);
  return source.substr(0, call->begin) + *shown + source.substr(call->end);
}

// A frame of the helper chain: "file:line function" (via_chain), or `via` itself.
struct ChainFrame {
  std::string file;
  std::size_t line = 0;
  std::string function;
};

std::vector<ChainFrame> chain_frames(const ci::SiteFacts& facts) {
  std::vector<std::string> entries = facts.via_chain;
  if (entries.empty()) entries.push_back(facts.via + " " + facts.via_function);
  std::vector<ChainFrame> out;
  for (const std::string& entry : entries) {
    const std::string where = entry.substr(0, entry.find(' '));
    const auto colon = where.rfind(':');
    if (colon == std::string::npos) return {};
    char* end = nullptr;
    const unsigned long line = std::strtoul(where.c_str() + colon + 1, &end, 10);
    if (line == 0 || *end != '\0') return {};
    const auto space = entry.find(' ');
    out.push_back({where.substr(0, colon), static_cast<std::size_t>(line),
                   space == std::string::npos ? std::string() : entry.substr(space + 1)});
  }
  return out;
}

// A file of the project (relative to where the audit ran, outside site-packages): one the fix
// may edit.
bool project_file(const std::string& file) {
  return !file.empty() && file[0] != '/' && file.rfind("../", 0) != 0 &&
         file.find("site-packages/") == std::string::npos &&
         file.find("dist-packages/") == std::string::npos;
}

// The keyword of `call` that passes `value` as a number literal under a tolerance's name.
std::optional<std::string> literal_tolerance_keyword(const ci::AssertionCall& call, double value) {
  for (const std::string& arg : call.args) {
    const auto eq = arg.find('=');
    if (eq == std::string::npos || arg.compare(eq, 2, "==") == 0) continue;
    std::string name = arg.substr(0, eq);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    static const std::vector<std::string> kNames = {"atol", "delta", "tol",      "tolerance",
                                                    "eps",  "prec",  "precision"};
    if (!contains(kNames, name)) continue;
    std::string text = arg.substr(eq + 1);
    text.erase(0, text.find_first_not_of(' '));
    char* end = nullptr;
    const double given = std::strtod(text.c_str(), &end);
    if (end != text.c_str() && *end == '\0' && given == value) return name;
  }
  return std::nullopt;
}

std::optional<std::string> multi_line_diff(const std::string& path, const std::string& file,
                                           std::size_t line_number, const std::string& api,
                                           const ci::SiteFacts& facts, double current_atol,
                                           double rtol, double atol, std::string* shown,
                                           std::string* helper_note);

// A helper that takes no per-call override keeps the tolerance in its own code: on the innermost
// line of the project that passes it as a literal (the comparison's line, or the call of the next
// helper with `atol=1e-6`, gpytorch's BaseTestCase.assertAllClose). The edit is there, for every
// caller (fix takes the largest recommendation of the callers).
std::optional<std::string> helper_line_edit(const model::AssertionSite& site,
                                            const ci::SiteFacts& facts,
                                            const CaptureAnalysisOptions& capture_options,
                                            double rtol, double atol, std::string* shown,
                                            std::string* note) {
  const std::vector<ChainFrame> frames = chain_frames(facts);
  for (std::size_t i = frames.size(); i-- > 0;) {
    const ChainFrame& f = frames[i];
    if (!project_file(f.file)) continue;
    const auto source = read_source_line(source_path(capture_options.source_root, f.file), f.line);
    if (!source) continue;
    std::optional<std::string> edited;
    std::string call_shown, unused;
    const std::string lives = "the tolerance lives in the helper " + f.function + "() at " +
                              f.file + ":" + std::to_string(f.line) +
                              ", which takes no per-call override: the edit is there, for " +
                              "every caller";
    if (i + 1 == frames.size()) {
      const ci::SiteFacts direct;  // the compared function itself is called on that line
      edited =
          rewritten_line(*source, site.api, direct, site.atol, rtol, atol, &call_shown, &unused);
      if (!edited) {  // torchkbnufft's conftest: `assert torch.allclose(\n    a,\n    b\n)`
        auto diff =
            multi_line_diff(source_path(capture_options.source_root, f.file), f.file, f.line,
                            site.api, direct, site.atol, rtol, atol, shown, &unused);
        if (diff) {
          *note = lives;
          return diff;
        }
      }
    } else if (const auto call =
                   ci::find_assertion_call(*source, "helper:" + frames[i + 1].function)) {
      if (const auto keyword = literal_tolerance_keyword(*call, site.atol)) {
        call_shown = ci::rewrite_keyword(*call, *keyword, atol);
        edited = source->substr(0, call->begin) + call_shown + source->substr(call->end);
      }
    }
    if (!edited) continue;
    *shown = call_shown;
    *note = lives;
    return ci::one_line_diff(f.file, f.line, *source, *edited);
  }
  return std::nullopt;
}

// "f(\n    a,\n    b,\n)" as one line of text: "f( a, b, )" with runs of blanks as one space.
std::string collapse_blanks(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool blank = c == ' ' || c == '\n' || c == '\t';
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : c;
  }
  return out;
}

// The lines from `number` on, up to kMaxCallLines (a call spread over several lines).
constexpr std::size_t kMaxCallLines = 30;
std::vector<std::string> read_source_block(const std::string& path, std::size_t number) {
  std::vector<std::string> out;
  if (number == 0) return out;
  std::ifstream in(path);
  std::string line;
  for (std::size_t i = 1; out.size() < kMaxCallLines && std::getline(in, line); ++i) {
    if (i < number) continue;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(text.substr(start, nl - start));
  out.push_back(text.substr(start));
  return out;
}

// `self.assertLess(\n    value,\n    0.07,\n)` (black's layout): the statement's lines until its
// brackets close, with the one literal equal to the threshold replaced.
std::optional<std::string> multi_line_threshold_diff(const std::vector<std::string>& block,
                                                     const std::string& file,
                                                     std::size_t line_number,
                                                     const ci::SiteFacts& facts, double current,
                                                     double atol, std::string* shown) {
  long depth = 0;
  std::size_t lines = 0;
  std::string text;
  for (const std::string& line : block) {
    for (char c : line)
      depth += (c == '(' || c == '[' || c == '{') - (c == ')' || c == ']' || c == '}');
    text += (lines++ ? "\n" : "") + line;
    if (depth <= 0) break;
  }
  if (lines < 2 || depth > 0) return std::nullopt;
  const auto edited = ci::replace_number_literal(text, current, atol);
  if (!edited) return std::nullopt;
  *shown = "threshold " + (facts.op.empty() ? "<" : facts.op) + " " + ci::format_tolerance(atol);
  const std::vector<std::string> before(block.begin(), block.begin() + std::ptrdiff_t(lines));
  return ci::lines_diff(file, line_number, before, split_lines(*edited));
}

// A call that opens on the site's line and closes on a later one: the edited lines, as a diff.
std::optional<std::string> multi_line_diff(const std::string& path, const std::string& file,
                                           std::size_t line_number, const std::string& api,
                                           const ci::SiteFacts& facts, double current_atol,
                                           double rtol, double atol, std::string* shown,
                                           std::string* helper_note) {
  const std::vector<std::string> block = read_source_block(path, line_number);
  if (api == "threshold")
    return multi_line_threshold_diff(block, file, line_number, facts, current_atol, atol, shown);
  std::string text;
  for (std::size_t i = 0; i < block.size(); ++i) text += (i ? "\n" : "") + block[i];
  const std::string callee = facts.via.empty() ? api : "helper:" + facts.via_function;
  const auto call = ci::find_assertion_call(text, callee);
  // The call must open on the site's own line, and span more than it.
  if (block.empty() || !call || call->begin >= block[0].size() ||
      text.find('\n', call->begin) > call->end)
    return std::nullopt;
  const auto edited = rewritten_line(text, api, facts, current_atol, rtol, atol, shown, helper_note,
                                     /*in_place=*/true);
  if (!edited) return std::nullopt;
  const std::size_t lines = split_lines(text.substr(0, call->end)).size();
  const std::vector<std::string> before(block.begin(), block.begin() + std::ptrdiff_t(lines));
  std::vector<std::string> after = split_lines(*edited);
  after.resize(after.size() - (block.size() - lines));  // the untouched lines after the call
  for (char& c : *shown)
    if (c == '\n') c = ' ';
  return ci::lines_diff(file, line_number, before, after);
}

// The edit of where a tolerance given by name is defined (`ATOL = 1e-6` for `atol=self.ATOL`),
// to loosen it: the number literal there, when it still holds the value the runs used. Every
// comparison reading the name shares it, so `fix` writes the loosest of their recommendations.
std::optional<std::string> definition_edit(const ci::SiteFacts& facts,
                                           const CaptureAnalysisOptions& capture_options,
                                           double written, std::string* shown, std::string* note) {
  const auto colon = facts.definition_at.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string file = facts.definition_at.substr(0, colon);
  char* end = nullptr;
  const unsigned long number = std::strtoul(facts.definition_at.c_str() + colon + 1, &end, 10);
  if (number == 0 || *end != '\0' || !project_file(file)) return std::nullopt;
  const auto source = read_source_line(source_path(capture_options.source_root, file), number);
  if (!source) return std::nullopt;
  const auto edited = ci::replace_number_literal(*source, facts.definition_value, written);
  if (!edited) return std::nullopt;
  *shown = edited->substr(std::min(edited->size(), edited->find_first_not_of(" \t")));
  shown->erase(std::min(shown->size(), shown->find(" #")));  // (its comment: not the edit)
  *note = "the tolerance is `" + facts.definition_name + "`, defined at " + facts.definition_at +
          ": the edit is there, shared by every comparison that reads it";
  return ci::one_line_diff(file, number, *source, *edited);
}

// The text after the suggested call: what the arguments keep, or why there is no bound.
std::string keeps_text(const model::AssertionSite& site, const stats::ToleranceOptions& options,
                       const ci::Verdict& verdict) {
  const model::AssertionRecommendation& rec = site.recommendation;
  if (verdict.kind == model::AssertionClass::kDeterministic) return " (" + verdict.message + ")";
  if (rec.extra.value("lower_bound", std::string()) == "loop")  // (the note says why)
    return " covers the failing pass of each run, no more";
  if (rec.method == "observed maximum") {
    // No tail bound backs it: say what it is, and what would give one.
    return " covers the worst of " + std::to_string(site.trials) +
           " runs, no more (a bound for failures <= " + format_target(options.target) +
           " needs about " + std::to_string(rec.runs_needed.value_or(0)) + " runs)";
  }
  if (rec.method == "exact" && rec.runs_needed && *rec.runs_needed > site.trials) {
    // Every run needed nothing, but too few runs to say how rarely one would: no claim at the
    // target (pytorch-minimize read "keeps failures <= 1e-4 at 95%" next to "CI [0%, 31%]").
    return " were enough on all " + std::to_string(site.trials) + " runs, none needing " +
           (site.api == "threshold" ? "a threshold" : "any atol") +
           " (showing failures <= " + format_target(options.target) + " at " +
           format_confidence(options.confidence) + " takes about " +
           std::to_string(*rec.runs_needed) + " runs)";
  }
  std::string keeps = " keeps failures <= " + format_target(options.target) + " at " +
                      format_confidence(options.confidence);
  if (rec.extrapolation)
    keeps += " (the bound is " + extrapolation_text(rec) +
             ": mostly extrapolation, more runs tighten it)";
  return keeps;
}

// Retries only where runs failed: with no failure seen, a count from the upper end of 0 of n
// (7 retries after 0 of 8) would read as advice to retry a test that never failed.
std::string retry_text(const model::AssertionSite& site, const ci::Verdict& verdict) {
  if (!site.retries || *site.retries == 0 || verdict.kind != model::AssertionClass::kStatistical ||
      site.failure_rate.failures == 0 ||
      *site.retries > static_cast<long>(stats::kMaxSensibleRetries))
    return "";  // (past a handful of retries, retrying hides a broken test: not advice)
  const long k = *site.retries;
  return "; or keep the arguments and retry up to " + std::to_string(k) +
         (k == 1 ? " time" : " times");
}

// "the current arguments (...) keep failures <= 1e-4 at 95% (atol=... would suffice); they fail
// an estimated ..., though 0 of 60 observed runs failed".
std::string keep_text(const model::AssertionSite& site, const std::string& keeps, double atol) {
  const bool threshold = site.api == "threshold";
  const std::string current =
      threshold ? "the current " + ci::bound_phrase(site, site.atol)
      : site.api == "pytest.approx"
          ? "the current arguments (rel=" + ci::readable_tolerance(site.rtol) +
                ", abs=" + ci::readable_tolerance(site.atol) + ")"
          : "the current arguments (rtol=" + ci::readable_tolerance(site.rtol) +
                ", atol=" + ci::readable_tolerance(site.atol) + ")";
  // `keeps` and the rate's text are worded for one call ("keeps", "fails"); arguments are many.
  std::string verb = keeps;
  if (!threshold && verb.rfind(" keeps ", 0) == 0) verb.replace(0, 7, " keep ");
  const model::AssertionRecommendation& rec = site.recommendation;
  const bool exact_too_few =
      rec.method == "exact" && rec.runs_needed && *rec.runs_needed > site.trials;
  std::string text = current + verb;
  // (Not when the bound, rounded up, is the current value: "(atol=1.5e-14 would suffice)".)
  if (!exact_too_few && ci::bound_phrase(site, atol) != ci::bound_phrase(site, site.atol))
    text += " (" + ci::bound_phrase(site, atol) + " would suffice)";
  if (site.estimated_failure_rate) {
    std::string rate = site.estimated_failure_rate->text;
    if (!threshold && rate.rfind("fails ", 0) == 0) rate.replace(0, 6, "fail ");
    // "though" where the estimate says what the runs could not: a rate above 0 with none seen.
    const bool contrast = site.failure_rate.failures == 0 && site.estimated_failure_rate->point > 0;
    text += std::string(threshold ? "; it " : "; they ") + rate + (contrast ? ", though " : "; ") +
            std::to_string(site.failure_rate.failures) + " of " + std::to_string(site.trials) +
            " observed runs failed";
    // torchkbnufft read "keep failures <= 1e-4 at 95%" beside "95% CI [0%, 0.13%]" as a
    // contradiction: the two answer different questions, and the interval is the looser one.
    if (rec.action == model::AssertionAction::kKeep &&
        site.estimated_failure_rate->upper > rec.target && !exact_too_few)
      text +=
          " (the interval's upper end is looser than the bound: it is two-sided and takes "
          "both the tail's share of the runs and its fit at their own upper ends)";
  }
  return text;
}

// What the runs show without a bound: "; the worst of 40 runs needed atol 3.1e-08, 23 times
// under the current one" (nothing when a run failed: the failures say more).
std::string headroom_text(const model::AssertionSite& site) {
  const std::vector<double>& needed = site.samples.atol_needed;
  if (needed.empty() || site.failure_rate.failures > 0 || !(site.atol > 0)) return "";
  const double worst = *std::max_element(needed.begin(), needed.end());
  if (!std::isfinite(worst)) return "";
  const bool threshold = site.api == "threshold";
  std::string text = "; the worst of " + std::to_string(needed.size()) + " runs " +
                     (threshold ? "was " : "needed atol ") + ci::format_number(worst);
  const std::string factor = worst > 0 ? factor_text(site.atol / worst) : "";
  const std::string current = threshold ? "threshold" : "atol";
  if (factor == "1")
    text += ", just under the current " + current;
  else if (!factor.empty())
    text += ", " + factor + " times under the current " + current;
  return text;
}

// No failure, and a bound that is mostly extrapolation: what the runs show and what would decide.
std::string undecided_text(const model::AssertionSite& site, double atol) {
  // At risk (the estimate above the target, or the worst run close to the bound): no "keep".
  std::string text = "undecided: " + std::to_string(site.failure_rate.failures) + " of " +
                     std::to_string(site.trials) + " runs failed, and the bound " +
                     ci::bound_phrase(site, atol) + " rests on too few runs (" +
                     site.recommendation.reason + ")" +
                     (site.at_risk() ? "; rerun with more runs before trusting the current "
                                       "arguments, which are close to failing"
                                     : "; keep the arguments and rerun with more runs");
  if (site.estimated_failure_rate)
    text += "; with the current " +
            (site.api == "threshold" ? ci::bound_phrase(site, site.atol) : "arguments") + " it " +
            site.estimated_failure_rate->text;
  return text;
}

// An exact-looking check with a tolerance of its own (SiteFacts::hidden_tolerance): what the runs
// show of that tolerance, and the bound to set it to where it is defined (no diff: the capture
// does not know where that is).
std::string hidden_tolerance_text(const model::AssertionSite& site, const ci::SiteFacts& facts,
                                  const std::string& keeps) {
  std::string text = "not an exact check: " + site.api +
                     " compares within a tolerance of its own (the test class's or a registered "
                     "equality function's) that the capture cannot see; it let differences up to " +
                     ci::format_number(facts.hidden_passed) + " pass";
  if (std::isfinite(facts.hidden_failed))
    text += " and failed at " + ci::format_number(facts.hidden_failed);
  const model::AssertionRecommendation& rec = site.recommendation;
  if (!rec.atol) return text + "; no tolerance can be recommended: " + rec.reason;
  text += "; an absolute tolerance of " + ci::format_tolerance(*rec.atol) + keeps;
  if (rec.action == model::AssertionAction::kLoosen)
    text += ": raise the tolerance in force to at least that where it is defined";
  else if (rec.action == model::AssertionAction::kNone)
    text += "; no run failed, so whether the tolerance in force reaches it is unknown";
  return text;
}

// The tolerant form of an exact check, with the atol that the runs needed.
std::string tolerant_call(const model::AssertionSite& site, double atol) {
  const std::string a = ci::format_tolerance(atol);
  const bool scalar = !site.shape || site.shape->empty();
  if (site.api == "==" && scalar) return "abs(actual - expected) <= " + a;
  if (site.api == "==" && site.extra.value("library", std::string()) == "numpy")
    return "numpy.testing.assert_allclose(actual, desired, rtol=0, atol=" + a + ")";
  if (site.api == "unittest.assertEqual" && scalar)
    return "assertAlmostEqual(first, second, delta=" + a + ")";
  if (site.api == "torch.equal") return "torch.allclose(actual, expected, rtol=0, atol=" + a + ")";
  if (site.api == "numpy.array_equal")
    return "numpy.allclose(actual, expected, rtol=0, atol=" + a + ")";
  if (site.api.rfind("numpy.", 0) == 0)
    return "numpy.testing.assert_allclose(actual, desired, rtol=0, atol=" + a + ")";
  return "torch.testing.assert_close(actual, expected, rtol=0, atol=" + a + ")";
}

// An exact check that failed, and the atol a tolerant check would need (see offer_a_tolerance in
// capture_analysis.cpp): both ways out, the maintainer's to choose.
std::string tolerant_alternative_text(const model::AssertionSite& site,
                                      const stats::ToleranceOptions& options,
                                      const ci::Verdict& verdict) {
  const model::AssertionRecommendation& rec = site.recommendation;
  const std::string method = rec.extra.value("tolerance_method", std::string());
  std::string backs;
  if (rec.extra.value("lower_bound", std::string()) == "loop")  // torchcde: 180 passes, 14 seen
    backs =
        " covers the failing pass of each run, no more: the line is in a loop that stopped "
        "there in every run, so this is a lower bound of what the loop needs";
  else if (method == "deterministic")
    backs = " covers the difference with a 1% margin";
  else if (method == "observed maximum")
    backs = " covers the worst of " + std::to_string(site.trials) + " runs, no more (a bound for " +
            "failures <= " + format_target(options.target) + " needs about " +
            std::to_string(rec.runs_needed.value_or(0)) + " runs)";
  else {
    backs = " keeps failures <= " + format_target(options.target) + " at " +
            format_confidence(options.confidence);
    if (rec.extrapolation)
      backs += " (the bound is " + extrapolation_text(rec) + ": more runs tighten it)";
  }
  // Failing every run: two computations that differ (einsum against BLAS), not a run-to-run
  // variation that a setting could cause (opt_einsum's inputs were merely random).
  const bool sometimes = verdict.kind != model::AssertionClass::kDeterministic &&
                         site.failure_rate.failures < site.failure_rate.trials;
  return "if a difference this small is acceptable here, compare within a tolerance: `" +
         tolerant_call(site, *rec.atol) + "`" + backs +
         (sometimes ? "; if the values must be identical, the variation between runs is the bug "
                      "(`flakescope audit --ablation` names the setting that causes it)"
                    : "; if they must be identical, the two compared computations differ on every "
                      "run: a bug of the code under test");
}

// Fills "suggestion" and "diff" from the recommendation.
}  // namespace

void suggest(model::AssertionSite& site, const CaptureAnalysisOptions& capture_options,
             const stats::ToleranceOptions& options, const ci::SiteFacts& facts,
             const ci::Verdict& verdict) {
  site.diff.reset();
  const model::AssertionRecommendation& rec = site.recommendation;
  if (facts.exact && rec.atol && site.failure_rate.failures > 0 &&
      (verdict.kind == model::AssertionClass::kBitwise ||
       verdict.kind == model::AssertionClass::kDeterministic)) {
    site.suggestion = verdict.message + "; " + tolerant_alternative_text(site, options, verdict);
    return;
  }
  if (verdict.kind != model::AssertionClass::kStatistical &&
      rec.action != model::AssertionAction::kLoosen) {
    site.suggestion = verdict.message;  // nothing to write on the line
    return;
  }
  const std::string keeps = keeps_text(site, options, verdict);
  const std::string retries = retry_text(site, verdict);
  if (facts.hidden_tolerance) {
    site.suggestion = hidden_tolerance_text(site, facts, keeps) + retries;
    return;
  }
  if (!rec.atol) {
    site.suggestion = std::string(site.api == "threshold" ? "no threshold" : "no tolerance") +
                      " can be recommended from " + std::to_string(site.trials) +
                      " trials: " + (rec.reason.empty() ? "no bound" : rec.reason) +
                      headroom_text(site) + retries;
    return;
  }
  const bool decimal = takes_decimal(site.api);
  if (decimal) {  // numpy's decimal=d bounds by 1.5 * 10^-d: the d that covers the bound
    const int d = decimal_covering(*rec.atol);
    site.recommendation.atol = decimal_bound(d);
    site.recommendation.extra["decimal"] = d;
  }
  const double rtol = rec.rtol, atol = *rec.atol;
  // What the line says and what it is to say: decimal APIs are written as d.
  model::AssertionSite as_written = site;
  if (decimal) as_written.atol = decimal_of(site.atol);
  const double written = decimal ? double(decimal_covering(atol)) : atol;
  if (rec.action == model::AssertionAction::kKeep) {
    site.suggestion = keep_text(site, keeps, atol);
    return;
  }
  if (rec.action == model::AssertionAction::kNone) {
    site.suggestion = undecided_text(site, atol);
    return;
  }
  const std::string path = source_path(capture_options.source_root, site.file);
  const auto source = read_source_line(path, site.line);
  std::string shown, helper_note;
  std::optional<std::string> new_line, diff;
  if (source)
    new_line = rewritten_line(*source, site.api, facts, as_written.atol, rtol, written, &shown,
                              &helper_note);
  if (source && !new_line) {
    // Perhaps a call spread over several lines; its own notes replace the one-line attempt's.
    std::string multi_note;
    diff = multi_line_diff(path, site.file, site.line, site.api, facts, as_written.atol, rtol,
                           written, &shown, &multi_note);
    if (!multi_note.empty()) helper_note = multi_note;
  }
  if (!new_line && !diff && !facts.via.empty() && facts.tolerance_at == "via") {
    std::string helper_shown, helper_line_note;
    diff = helper_line_edit(as_written, facts, capture_options, rtol, written, &helper_shown,
                            &helper_line_note);
    if (diff) shown = helper_shown, helper_note = helper_line_note;
  }
  if (!new_line && !diff && !facts.definition_at.empty() &&
      rec.action == model::AssertionAction::kLoosen) {
    // (Only to loosen: a shared value tightened for one comparison could fail the others.)
    std::string definition_shown, definition_note;
    diff = definition_edit(facts, capture_options, written, &definition_shown, &definition_note);
    if (diff) shown = definition_shown, helper_note = definition_note;
  }
  const std::string note = helper_note.empty() ? "" : "; " + helper_note;
  if (diff) {
    site.suggestion = "`" + collapse_blanks(shown) + "`" + keeps + retries + note;
    site.diff = *diff;
  } else if (!new_line) {
    const std::string call = site.api == "threshold" ? ci::bound_phrase(site, atol)
                                                     : ci::canonical_call(site.api, rtol, written);
    site.suggestion = "`" + call + "`" + keeps + retries + note;
  } else {
    site.suggestion = "`" + shown + "`" + keeps + retries + note;
    site.diff = ci::one_line_diff(site.file, site.line, *source, *new_line);
  }
}

}  // namespace flakescope::capture_internal
