#include "protocols/common/qc.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <tuple>

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
    std::vector<NodeId> out(signer_count());
    signers_into(out);
    return out;
}

std::size_t QuorumCert::signers_into(std::span<NodeId> out) const {
    std::size_t k = 0;
    for (std::size_t w = 0; w < signers.size(); ++w) {
        for (std::uint64_t bits = signers[w]; bits != 0; bits &= bits - 1) {
            const auto b = static_cast<std::uint32_t>(std::countr_zero(bits));
            out[k++] = NodeId(static_cast<std::uint32_t>(w * 64) + b);
        }
    }
    return k;
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

SignedVote sign_vote(sim::Context& ctx, const Statement& stmt, Digest stmt_digest) {
    return {stmt, ctx.self(), ctx.sign(stmt_digest)};
}

bool verify_vote(sim::Context& ctx, const SignedVote& v, Digest stmt_digest) {
    return ctx.verify(v.signer, stmt_digest, v.sig);
}

bool QcBuilder::mark(std::uint32_t signer, const sim::Signature& sig) {
    const std::size_t w = signer / 64;
    if (seen_.size() <= w) seen_.resize(w + 1, 0);
    const std::uint64_t bit = 1ULL << (signer % 64);
    if (seen_[w] & bit) return false;
    seen_[w] |= bit;
    if (sigs_.size() <= signer) sigs_.resize(signer + 1);
    sigs_[signer] = sig;
    ++count_;
    return true;
}

QcBuilder::Added QcBuilder::add(sim::Context& ctx, const SignedVote& v) {
    if (v.stmt != stmt_) return Added::WrongStatement;
    const std::size_t w = v.signer.v / 64;
    if (w < seen_.size() && ((seen_[w] >> (v.signer.v % 64)) & 1)) return Added::Duplicate;
    if (!verify_vote(ctx, v)) return Added::BadSignature;
    mark(v.signer.v, v.sig);
    return Added::Ok;
}

QcBuilder::Added QcBuilder::add_trusted(const SignedVote& v) {
    if (v.stmt != stmt_) return Added::WrongStatement;
    return mark(v.signer.v, v.sig) ? Added::Ok : Added::Duplicate;
}

QuorumCert QcBuilder::build(sim::Context& ctx) const {
    QuorumCert qc;
    qc.stmt = stmt_;
    // The bitmap only grows to the highest signer's word, as the QC's own bitmap does.
    qc.signers = seen_;
    std::vector<sim::Signature> sigs;
    sigs.reserve(count_);
    for (std::size_t w = 0; w < seen_.size(); ++w)
        for (std::uint64_t bits = seen_[w]; bits != 0; bits &= bits - 1)
            sigs.push_back(sigs_[w * 64 + static_cast<std::size_t>(std::countr_zero(bits))]);
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
    return verify_qc(ctx, qc, qc.stmt.digest(), quorum, replicas);
}

QcCheck verify_qc(sim::Context& ctx, const QuorumCert& qc, Digest d, std::uint32_t quorum,
                  std::uint32_t replicas) {
    if (qc.signers.size() > (replicas + 63) / 64) return QcCheck::Malformed;
    // No signer at or above `replicas`: only the last word can hold such bits.
    if (!qc.signers.empty() && replicas % 64 != 0 && qc.signers.size() == (replicas + 63) / 64 &&
        (qc.signers.back() >> (replicas % 64)) != 0)
        return QcCheck::Malformed;
    const std::uint32_t count = qc.signer_count();
    if (count < quorum) return QcCheck::TooFewSigners;
    // Every replica checks every QC it sees: the signer list lives on the stack when it fits.
    std::array<NodeId, 256> small;
    std::vector<NodeId> large;
    std::span<NodeId> who(small.data(), count);
    if (count > small.size()) {
        large.resize(count);
        who = std::span<NodeId>(large);
    }
    qc.signers_into(who);
    if (qc.aggregated) {
        if (qc.sigs.size() != 1) return QcCheck::Malformed;
        return ctx.verify_aggregate(who, d, qc.sigs[0]) ? QcCheck::Ok : QcCheck::BadSignature;
    }
    if (qc.sigs.size() != who.size()) return QcCheck::Malformed;
    for (std::size_t i = 0; i < who.size(); ++i)
        if (!ctx.verify(who[i], d, qc.sigs[i])) return QcCheck::BadSignature;
    return QcCheck::Ok;
}

std::uint32_t verify_qc_cost(const QuorumCert& qc) {
    return qc.aggregated ? 1 : static_cast<std::uint32_t>(qc.sigs.size());
}

bool verify_evidence(sim::Context& ctx, const Evidence& e) {
    return e.first.signer == e.second.signer && e.first.stmt.conflicts(e.second.stmt) &&
           verify_vote(ctx, e.first) && verify_vote(ctx, e.second);
}

EquivocationDetector::Entry EquivocationDetector::make_entry(const SignedVote& v) {
    Entry e{v.stmt.view, v.stmt.slot, v.stmt.value,      0,           v.signer.v,
            0,           epoch_,      rank(v.stmt.kind), v.stmt.kind, false};
    const sim::Signature::Head& head = v.sig.head();
    std::memcpy(&e.sig_head, head.data(), 8);
    std::uint64_t second_word;
    std::memcpy(&second_word, head.data() + 8, 8);
    if (second_word != 0 || v.sig.has_tail()) {
        const sim::Signature::Bytes bytes = v.sig.bytes();
        Tail tail;
        std::memcpy(tail.data(), bytes.data() + 8, kTailBytes);
        do {
            ++next_tail_;
        } while (next_tail_ == 0 || tails_.contains(next_tail_));
        e.tail = next_tail_;
        *tails_.try_emplace(e.tail).first = tail;
    }
    return e;
}

SignedVote EquivocationDetector::vote_of(const Entry& e) const {
    sim::Signature::Bytes bytes{};
    std::memcpy(bytes.data(), &e.sig_head, 8);
    if (e.tail != 0) {
        const Tail& tail = *tails_.find(e.tail);
        std::memcpy(bytes.data() + 8, tail.data(), kTailBytes);
    }
    return SignedVote{Statement{e.kind, e.view, e.slot, e.value}, NodeId(e.signer),
                      sim::Signature(bytes)};
}

void EquivocationDetector::drop_tail(const Entry& e) {
    if (e.tail != 0) tails_.erase(e.tail);
}

void EquivocationDetector::sweep() {
    std::erase_if(entries_, [this](const Entry& e) {
        if (!dead(e)) return false;
        drop_tail(e);
        return true;
    });
}

const Evidence* EquivocationDetector::observe(const SignedVote& v) {
    // The same statement from the same signer again: its entry exists (forget_below forgets
    // the recent ones it drops), and it either agrees or was reported already.
    for (std::size_t i = 0; i < recent_.size(); ++i) {
        const Recent& r = recent_[i];
        if (r.valid && v.signer == r.signer && v.stmt == r.stmt) {
            recent_next_ = i ^ 1;  // the next new statement replaces the other one
            return nullptr;
        }
    }
    recent_[recent_next_] = Recent{true, v.stmt, v.signer};
    recent_next_ ^= 1;
    // Full: take the dead out before the array grows (it grows if most entries live).
    if (entries_.size() == entries_.capacity()) sweep();
    const auto key = std::make_tuple(v.stmt.view, rank(v.stmt.kind), v.stmt.slot, v.signer.v);
    if (entries_.empty() || entries_.back().tuple() < key) {  // the usual case: append
        entries_.push_back(make_entry(v));
        return nullptr;
    }
    // Next most usual: just before the last entry. A leader's own vote reaches the next leader
    // a message delay before the others, which then arrive in signer order.
    const std::size_t n = entries_.size();
    const auto it =
        n >= 2 && entries_[n - 2].tuple() < key
            ? entries_.end() - 1
            : std::lower_bound(entries_.begin(), entries_.end(), key,
                               [](const Entry& e, const auto& k) { return e.tuple() < k; });
    if (it == entries_.end() || it->tuple() != key) {
        entries_.insert(it, make_entry(v));
        return nullptr;
    }
    if (dead(*it)) {  // forgotten: this vote is the first again
        drop_tail(*it);
        *it = make_entry(v);
        return nullptr;
    }
    if (it->value == v.stmt.value || it->reported) return nullptr;  // no conflict, or told
    it->reported = true;
    evidence_ = Evidence{vote_of(*it), v};
    return &evidence_;
}

void EquivocationDetector::forget_below(std::uint64_t view) {
    for (Recent& r : recent_)
        if (r.stmt.view < view) r.valid = false;
    floor_ = std::max(floor_, view);
    if (++epoch_ == std::numeric_limits<std::uint32_t>::max()) {
        // Epochs would wrap: what is dead leaves now, and what stays is older than this call.
        sweep();
        for (Entry& e : entries_) e.epoch = 0;
        epoch_ = 1;
    }
}

}  // namespace proto
