// service_list.h — the services a node runs, in start order (the ServiceHost stops them in
// reverse). Adding a service: its folder under src/services/ and one line in
// service_list.cpp.
#pragma once

#include <vector>

#include "service/host.h"

namespace hn::node {

const std::vector<service::ServiceFactory>& service_list();

}  // namespace hn::node
