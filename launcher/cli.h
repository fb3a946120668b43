// What the ssi-* command implementations share: their context, exit codes,
// one-line errors and option parsing.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "launcher/cluster_paths.h"

namespace ssiuml {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Context {
  std::string program;  // "ssi-start", for error messages
  ClusterPaths paths;
  bool verbose = false;
};

using CommandFn = int (*)(const Context&, const std::vector<std::string>&);

// Prints "PROGRAM: message" to stderr and returns code.
int Error(const Context& ctx, const std::string& message, int code = kExitFailure);

// Parses args against options plus positional arguments; prints usage and
// returns false on error, prints help and exits on --help.
bool ParseArgs(const Context& ctx, const std::vector<std::string>& args,
               boost::program_options::options_description& options, const char* usage,
               boost::program_options::variables_map* vm, std::vector<std::string>* positional);

int CmdNemesis(const Context& ctx, const std::vector<std::string>& args);
int CmdTest(const Context& ctx, const std::vector<std::string>& args);
int CmdNet(const Context& ctx, const std::vector<std::string>& args);

}  // namespace ssiuml
