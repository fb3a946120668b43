#pragma once

namespace ssiuml {

// Long commands (ssi-nemesis, ssi-test) stop between steps on SIGINT, SIGTERM
// or SIGHUP instead of dying, so they can heal every fault they applied.
void CatchInterruptions();
bool Interrupted();

}  // namespace ssiuml
