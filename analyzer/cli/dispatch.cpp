#include "cli/dispatch.h"

#include <unistd.h>
#include <boost/program_options/errors.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <ostream>

#include "core/subprocess.h"
#include "flakescope/error.h"

namespace flakescope::cli {

namespace {

std::string engine_path() {
  // FLAKESCOPE_ENGINE points elsewhere for installs that keep the engine in a libexec folder.
  if (const char* env = std::getenv("FLAKESCOPE_ENGINE"); env && *env) return env;
  const std::string self = self_executable_path();
  const auto slash = self.rfind('/');
  return (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) + "/" +
         kEngineExecutable;
}

}  // namespace

int run_guarded(const std::string& command, const std::function<int()>& body, std::ostream& err) {
  try {
    return body();
  } catch (const InputError& e) {
    err << "flakescope " << command << ": error: " << excerpt(first_line(e.what()), 400) << "\n";
    return kExitUsage;
  } catch (const boost::program_options::error& e) {
    err << "flakescope " << command << ": error: " << e.what() << " (see flakescope " << command
        << " --help)\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    err << "flakescope " << command << ": internal error: " << excerpt(first_line(e.what()), 400)
        << "\n";
    return kExitInternal;
  }
}

int finish_stdout(const std::string& command, int code, std::ostream& err) {
  std::cout.flush();
  errno = 0;
  const bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout;
  if (!failed) return code;
  const int e = errno;
  err << "flakescope " << command << ": error: cannot write to stdout"
      << (e ? std::string(": ") + std::strerror(e) : std::string()) << "\n";
  return code == kExitInternal ? code : kExitUsage;
}

int exec_engine(const std::vector<std::string>& argv, std::ostream& err) {
  const std::string path = engine_path();
  std::vector<char*> c_argv;
  for (const auto& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  err.flush();
  ::execv(path.c_str(), c_argv.data());
  const int e = errno;
  const std::string command = argv.size() > 1 ? argv[1] : "";
  if (e == ENOENT)
    err << "flakescope " << command << ": error: this build has no LibTorch engine (" << path
        << " not found); build the flakescope-torch target (FLAKESCOPE_TORCH=ON)\n";
  else
    err << "flakescope " << command << ": error: cannot run " << path << ": " << std::strerror(e)
        << "\n";
  return kExitUsage;
}

}  // namespace flakescope::cli
