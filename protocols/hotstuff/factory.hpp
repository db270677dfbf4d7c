// HotStuff as the registry sees it.
#pragma once

#include "protocols/common/application.hpp"
#include "protocols/protocol.hpp"

namespace hotstuff {

// Every replica runs the service `app` makes (LogChain when empty).
protocols::Protocol make_protocol(const sim::ScenarioSpec& spec, const proto::AppFactory& app);

}  // namespace hotstuff
