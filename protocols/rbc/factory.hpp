// Bracha's reliable broadcast as the registry sees it.
#pragma once

#include "protocols/protocol.hpp"

namespace rbc {

// Validates `/protocol` and every byzantine entry, then returns the protocol's parts.
protocols::Protocol make_protocol(const sim::ScenarioSpec& spec);

}  // namespace rbc
