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
    return Digest(sim::hash_fields(0x5154, kind, view, slot, value.v));
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
    if (second_word != 0 || v.sig.has_tail()) keep_tail(e, v.sig);
    return e;
}

void EquivocationDetector::keep_tail(Entry& e, const sim::Signature& sig) {
    const sim::Signature::Bytes bytes = sig.bytes();
    Tail tail;
    std::memcpy(tail.data(), bytes.data() + 8, kTailBytes);
    do {
        ++next_tail_;
    } while (next_tail_ == 0 || tails_.contains(next_tail_));
    e.tail = next_tail_;
    *tails_.try_emplace(e.tail).first = tail;
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

template <class Key>
std::uint64_t EquivocationDetector::lower_bound(const Key& key) const {
    std::uint64_t lo = head_, count = tail_ - head_;
    while (count > 0) {
        const std::uint64_t half = count / 2;
        if (at(lo + half).tuple() < key) {
            lo += half + 1;
            count -= half + 1;
        } else {
            count = half;
        }
    }
    return lo;
}

void EquivocationDetector::insert(std::uint64_t pos, const Entry& e) {
    for (std::uint64_t p = tail_; p > pos; --p) at(p) = at(p - 1);
    at(pos) = e;
    ++tail_;
}

void EquivocationDetector::rebuild(std::size_t size) {
    std::vector<Entry> old = std::move(ring_);
    const std::size_t old_mask = old.size() - 1;
    ring_.assign(size, Entry{});
    const std::uint64_t from = head_, to = tail_;
    head_ = tail_ = 0;
    for (std::uint64_t p = from; p < to; ++p) {
        const Entry& e = old[p & old_mask];
        if (dead(e)) {
            drop_tail(e);
        } else {
            ring_[tail_++] = e;
        }
    }
}

void EquivocationDetector::make_room() {
    if (ring_.empty()) {
        ring_.resize(16);
        return;
    }
    if (tails_.empty() && alive_below_floor_ == 0) {
        // Every entry below the floor is dead, and they are the oldest: skip them unread.
        std::uint64_t lo = head_, count = tail_ - head_;
        while (count > 0) {
            const std::uint64_t half = count / 2;
            if (at(lo + half).view < floor_) {
                lo += half + 1;
                count -= half + 1;
            } else {
                count = half;
            }
        }
        head_ = lo;
        if (tail_ - head_ < ring_.size()) return;
    }
    // Most entries live (or dead ones need reading): take the dead out, into twice the room
    // if more than half of them live.
    std::size_t live = 0;
    for (std::uint64_t p = head_; p < tail_; ++p) live += !dead(at(p));
    rebuild(2 * live > ring_.size() ? 2 * ring_.size() : ring_.size());
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
    if (tail_ - head_ == ring_.size()) make_room();
    if (v.stmt.view < floor_) ++alive_below_floor_;
    const auto key = std::make_tuple(v.stmt.view, rank(v.stmt.kind), v.stmt.slot, v.signer.v);
    if (head_ == tail_ || at(tail_ - 1).tuple() < key) {  // the usual case: append
        at(tail_++) = make_entry(v);
        return nullptr;
    }
    return observe_inside(v);
}

const Evidence* EquivocationDetector::observe_inside(const SignedVote& v) {
    const auto key = std::make_tuple(v.stmt.view, rank(v.stmt.kind), v.stmt.slot, v.signer.v);
    // Next most usual: just before the last entry. A leader's own vote reaches the next leader
    // a message delay before the others, which then arrive in signer order.
    const std::uint64_t pos =
        tail_ - head_ >= 2 && at(tail_ - 2).tuple() < key ? tail_ - 1 : lower_bound(key);
    Entry& e = at(pos);
    if (pos == tail_ || e.tuple() != key) {
        insert(pos, make_entry(v));
        return nullptr;
    }
    if (dead(e)) {  // forgotten: this vote is the first again
        drop_tail(e);
        e = make_entry(v);
        return nullptr;
    }
    if (v.stmt.view < floor_) --alive_below_floor_;             // not added after all
    if (e.value == v.stmt.value || e.reported) return nullptr;  // no conflict, or told
    e.reported = true;
    evidence_ = Evidence{vote_of(e), v};
    return &evidence_;
}

void EquivocationDetector::forget_below(std::uint64_t view) {
    for (Recent& r : recent_)
        if (r.stmt.view < view) r.valid = false;
    floor_ = std::max(floor_, view);
    alive_below_floor_ = 0;
    if (++epoch_ == std::numeric_limits<std::uint32_t>::max()) {
        // Epochs would wrap: what is dead leaves now, and what stays is older than this call.
        rebuild(ring_.size());
        for (std::uint64_t p = head_; p < tail_; ++p) at(p).epoch = 0;
        epoch_ = 1;
    }
}

}  // namespace proto
