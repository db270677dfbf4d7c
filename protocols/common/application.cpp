#include "protocols/common/application.hpp"

#include "sim/hash.hpp"

namespace proto {

Digest LogChain::execute(const Request& req, Digest request, std::uint64_t index,
                         std::uint32_t position) {
    (void)req;
    return execution_result(request, index, position);
}

Digest LogChain::seal(std::uint64_t index, Digest batch) {
    state_ = Digest(sim::Hasher(state_.v).add(index).add(batch.v).value());
    return state_;
}

// The chain's digest is all of its state: any snapshot without data is one.
bool LogChain::restore(const AppSnapshot& s) {
    if (s.data) return false;
    state_ = s.digest;
    return true;
}

std::uint64_t data_hash(const AppData& data) {
    if (!data) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data->data()), data->size());
    return sim::Hasher(0x4150).add(bytes).value();
}

std::unique_ptr<Application> make_application(const AppFactory& factory) {
    if (factory) return factory();
    return std::make_unique<LogChain>();
}

}  // namespace proto
