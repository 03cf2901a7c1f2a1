#pragma once
// The reporter classes, one file each (terminal_reporter.cpp, markdown_reporter.cpp, ...);
// make_reporter() in render_report.cpp picks one.
#include <string>

#include "report/report_view.h"
#include "report/reporters.h"

namespace flakescope::report {

class TerminalReporter : public Reporter {
 public:
  explicit TerminalReporter(RenderOptions options) : options_(options) {}
  std::string render(const model::Report& report) const override;

 private:
  RenderOptions options_;
};

class MarkdownReporter : public Reporter {
 public:
  std::string render(const model::Report& report) const override;
};

class HtmlReporter : public Reporter {
 public:
  std::string render(const model::Report& report) const override;
};

class JunitReporter : public Reporter {
 public:
  std::string render(const model::Report& report) const override;
};

// The report itself, indented (to_json of the model: the file as written).
class JsonReporter : public Reporter {
 public:
  std::string render(const model::Report& report) const override;
};

}  // namespace flakescope::report
