// Shared by the PBFT tests that drive replicas on a recording context.
#pragma once

#include "protocols/pbft/replica.hpp"

namespace testing {

// n = 4, f = 1, a checkpoint every 10 and a window of 20: small enough to reach both.
inline pbft::Config small_pbft_config() {
    pbft::Config c;
    c.quorum = proto::Quorum{4, 1};
    c.checkpoint_interval = 10;
    c.watermark_window = 20;
    return c;
}

}  // namespace testing
