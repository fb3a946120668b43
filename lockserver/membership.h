// The node's membership in the cluster, kept by ssi-agent on a thread of its
// own: a session with the lock server as this node (boot id from the agent),
// heartbeats by the client library, /run/ssi/members rewritten on every
// change, and a console line when a peer joins or leaves, so a user sees
// "node 3 left the cluster" on the survivors after ssi-rm 3. A lost session
// is opened again; until then the members file says so.
#pragma once

#include <set>
#include <string>

namespace ssiuml::lock {

// Reads the identity ssi-agent wrote, then runs until the process exits.
void StartMembership();

// The text of /run/ssi/members: "epoch E" then one member per line.
std::string MembersFileText(uint64_t epoch, const std::set<int>& members);

}  // namespace ssiuml::lock
