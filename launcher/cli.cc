#include "launcher/cli.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace po = boost::program_options;

namespace ssiuml {

int Error(const Context& ctx, const std::string& message, int code) {
  std::fprintf(stderr, "%s: %s\n", ctx.program.c_str(), message.c_str());
  return code;
}

bool ParseArgs(const Context& ctx, const std::vector<std::string>& args,
               po::options_description& options, const char* usage, po::variables_map* vm,
               std::vector<std::string>* positional) {
  options.add_options()("help,h", "this help");
  po::options_description hidden;
  hidden.add_options()("args", po::value(positional));
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description pos;
  pos.add("args", -1);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), *vm);
    po::notify(*vm);
  } catch (const po::error& e) {
    Error(ctx, std::string(e.what()) + " (usage: " + usage + ")", kExitUsage);
    return false;
  }
  if (vm->count("help")) {
    std::cout << "usage: " << usage << "\n" << options;
    std::exit(kExitOk);
  }
  return true;
}

}  // namespace ssiuml
