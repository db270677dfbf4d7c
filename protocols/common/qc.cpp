#include "protocols/common/qc.hpp"

#include <bit>

#include "sim/hash.hpp"

namespace proto {

Digest Statement::digest() const {
    return Digest(sim::Hasher(0x5154).add(kind).add(view).add(slot).add(value.v).value());
}

std::uint32_t QuorumCert::signer_count() const {
    std::uint32_t c = 0;
    for (std::uint64_t w : signers) c += static_cast<std::uint32_t>(std::popcount(w));
    return c;
}

std::vector<NodeId> QuorumCert::signer_list() const {
    std::vector<NodeId> out;
    for (std::size_t w = 0; w < signers.size(); ++w)
        for (std::uint32_t b = 0; b < 64; ++b)
            if ((signers[w] >> b) & 1) out.emplace_back(static_cast<std::uint32_t>(w * 64 + b));
    return out;
}

bool QuorumCert::has_signer(NodeId id) const {
    const std::size_t w = id.v / 64;
    return w < signers.size() && ((signers[w] >> (id.v % 64)) & 1);
}

std::uint32_t QuorumCert::size_bytes() const {
    constexpr std::uint32_t kStatement = 1 + 8 + 8 + 8;
    constexpr std::uint32_t kSig = 64;
    // An aggregate travels as one BLS-sized signature (48 bytes); Ed25519 signatures as 64.
    const std::uint32_t sig_bytes =
        aggregated ? 48 : kSig * static_cast<std::uint32_t>(sigs.size());
    return kStatement + 8 * static_cast<std::uint32_t>(signers.size()) + sig_bytes;
}

SignedVote sign_vote(sim::Context& ctx, const Statement& stmt) {
    return {stmt, ctx.self(), ctx.sign(stmt.digest())};
}

bool verify_vote(sim::Context& ctx, const SignedVote& v) {
    return ctx.verify(v.signer, v.stmt.digest(), v.sig);
}

QcBuilder::Added QcBuilder::add(sim::Context& ctx, const SignedVote& v) {
    if (v.stmt != stmt_) return Added::WrongStatement;
    if (votes_.count(v.signer.v)) return Added::Duplicate;
    if (!verify_vote(ctx, v)) return Added::BadSignature;
    votes_.emplace(v.signer.v, v.sig);
    return Added::Ok;
}

QcBuilder::Added QcBuilder::add_trusted(const SignedVote& v) {
    if (v.stmt != stmt_) return Added::WrongStatement;
    if (!votes_.emplace(v.signer.v, v.sig).second) return Added::Duplicate;
    return Added::Ok;
}

QuorumCert QcBuilder::build(sim::Context& ctx) const {
    QuorumCert qc;
    qc.stmt = stmt_;
    std::vector<sim::Signature> sigs;
    for (const auto& [signer, sig] : votes_) {
        const std::size_t w = signer / 64;
        if (qc.signers.size() <= w) qc.signers.resize(w + 1, 0);
        qc.signers[w] |= 1ULL << (signer % 64);
        sigs.push_back(sig);
    }
    if (auto agg = ctx.aggregate(sigs)) {
        qc.sigs = {*agg};
        qc.aggregated = true;
    } else {
        qc.sigs = std::move(sigs);
    }
    return qc;
}

const char* qc_check_name(QcCheck c) {
    switch (c) {
        case QcCheck::Ok:
            return "ok";
        case QcCheck::TooFewSigners:
            return "too few signers";
        case QcCheck::BadSignature:
            return "bad signature";
        case QcCheck::Malformed:
            return "malformed";
    }
    return "?";
}

QcCheck verify_qc(sim::Context& ctx, const QuorumCert& qc, std::uint32_t quorum,
                  std::uint32_t replicas) {
    if (qc.signers.size() > (replicas + 63) / 64) return QcCheck::Malformed;
    const auto who = qc.signer_list();
    for (NodeId id : who)
        if (id.v >= replicas) return QcCheck::Malformed;
    if (who.size() < quorum) return QcCheck::TooFewSigners;
    const Digest d = qc.stmt.digest();
    if (qc.aggregated) {
        if (qc.sigs.size() != 1) return QcCheck::Malformed;
        return ctx.verify_aggregate(who, d, qc.sigs[0]) ? QcCheck::Ok : QcCheck::BadSignature;
    }
    if (qc.sigs.size() != who.size()) return QcCheck::Malformed;
    for (std::size_t i = 0; i < who.size(); ++i)
        if (!ctx.verify(who[i], d, qc.sigs[i])) return QcCheck::BadSignature;
    return QcCheck::Ok;
}

bool verify_evidence(sim::Context& ctx, const Evidence& e) {
    return e.first.signer == e.second.signer && e.first.stmt.conflicts(e.second.stmt) &&
           verify_vote(ctx, e.first) && verify_vote(ctx, e.second);
}

std::optional<Evidence> EquivocationDetector::observe(const SignedVote& v) {
    const Key key{v.stmt.view, v.stmt.kind, v.stmt.slot, v.signer.v};
    auto [it, fresh] = first_.emplace(key, v);
    if (fresh || !it->second.stmt.conflicts(v.stmt)) return std::nullopt;
    if (!reported_.emplace(key, true).second) return std::nullopt;
    return Evidence{it->second, v};
}

void EquivocationDetector::forget_below(std::uint64_t view) {
    first_.erase(first_.begin(), first_.lower_bound(Key{view, 0, 0, 0}));
    reported_.erase(reported_.begin(), reported_.lower_bound(Key{view, 0, 0, 0}));
}

}  // namespace proto
