#include "launcher/interruption.h"

#include <signal.h>

#include <initializer_list>

namespace ssiuml {
namespace {

volatile sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

}  // namespace

void CatchInterruptions() {
  struct sigaction sa = {};
  sa.sa_handler = OnInterrupt;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

bool Interrupted() { return g_interrupted != 0; }

}  // namespace ssiuml
