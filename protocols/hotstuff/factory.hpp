// HotStuff as the registry sees it.
#pragma once

#include "protocols/protocol.hpp"

namespace hotstuff {

protocols::Protocol make_protocol(const sim::ScenarioSpec& spec);

}  // namespace hotstuff
