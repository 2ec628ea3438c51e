// doctor_live_checks.h — the X03 §6.2 checks that look at sockets or at the running node:
// mdns_socket, udp_multicast, transport_port (sockets: can this home's node bind what it
// needs?) and at_least_one_capability, llm_backend_reachable, recent_error_rate (only the
// running node knows: asked over the local admin client; "node not running" as a warning
// when none runs). register_standard_checks (doctor_checks.h) puts them in X03 order.
//
// Thread-safety: the checks share one lazily opened LocalClient; run them from one thread.
#pragma once

#include <memory>

#include "node/home.h"
#include "observability/doctor.h"

namespace hn::node {

class RunningNode;  // the lazily connected local client the live checks share

observability::DoctorCheck make_mdns_socket_check(const NodeHome& home);
observability::DoctorCheck make_udp_multicast_check(const NodeHome& home,
                                                    std::shared_ptr<RunningNode> node);
observability::DoctorCheck make_transport_port_check(const NodeHome& home,
                                                     std::shared_ptr<RunningNode> node);
observability::DoctorCheck make_capability_check(std::shared_ptr<RunningNode> node);
observability::DoctorCheck make_llm_backend_check(const NodeHome& home,
                                                  std::shared_ptr<RunningNode> node);
observability::DoctorCheck make_error_rate_check(std::shared_ptr<RunningNode> node);

std::shared_ptr<RunningNode> running_node(const NodeHome& home);

}  // namespace hn::node
