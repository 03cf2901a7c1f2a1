// The HTML report opened in a real browser: headless Chromium (Debian's `chromium`) screenshots the
// page rendered from a real probe run; the screenshot must not be blank. "Blank" is judged against
// a screenshot of an empty page taken the same way: PNG compresses a uniform page to almost nothing,
// so the report's screenshot must be several times larger.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "flakescope/report.h"
#include "flakescope/subprocess.h"

namespace flakescope {
namespace {

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

long file_size(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<long>(st.st_size) : -1;
}

ProcessResult run(std::vector<std::string> argv, double timeout = 300) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.timeout_seconds = timeout;
  return run_process(spec);
}

long screenshot(const std::string& chromium, const std::string& html, const std::string& png) {
  const ProcessResult r = run({chromium, "--headless", "--no-sandbox", "--disable-gpu",
                               "--hide-scrollbars", "--window-size=1200,1600",
                               "--screenshot=" + png, "file://" + html},
                              120);
  EXPECT_EQ(r.status, ProcessStatus::kExited) << r.error << r.stderr_tail;
  return file_size(png);
}

TEST(HtmlScreenshot, ReportFromARealProbeRunIsNotBlankInChromium) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (apt-get install -y chromium)";
  std::string tmpl = ::testing::TempDir() + "flakescope-html-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  ASSERT_NE(mkdtemp(buf.data()), nullptr);
  const std::string dir = buf.data();

  const ProcessResult probe = run({FLAKESCOPE_CLI, "probe", "calibration/racy_sum", "ops/sum_large",
                                   "--runs", "60", "--out", dir + "/probe.json"});
  ASSERT_TRUE(probe.status == ProcessStatus::kExited && probe.exit_code <= 1) << probe.stderr_tail;
  const ProcessResult html = run({FLAKESCOPE_CLI, "report", dir + "/probe.json", "--format", "html",
                                  "--out", dir + "/report.html"});
  ASSERT_TRUE(html.succeeded()) << html.stderr_tail;
  write_file_atomic(dir + "/blank.html", "<!DOCTYPE html>\n<html><body></body></html>\n");

  const long blank = screenshot(chromium, dir + "/blank.html", dir + "/blank.png");
  const long page = screenshot(chromium, dir + "/report.html", dir + "/report.png");
  ASSERT_GT(blank, 0);
  ASSERT_GT(page, 0);
  EXPECT_GT(page, 5 * blank) << "screenshot " << dir << "/report.png (" << page
                             << " bytes) looks blank next to an empty page (" << blank << " bytes)";
  std::cout << "screenshot: " << dir << "/report.png (" << page << " bytes; empty page " << blank
            << " bytes)\n";
}

}  // namespace
}  // namespace flakescope
