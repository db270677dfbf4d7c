// A PBFT replica (Castro & Liskov, OSDI'99, signature version; PROTOCOLS.md §1): normal case
// (normal_case.cpp), checkpoints and watermarks (checkpoint.cpp) and view change
// (view_change.cpp). A deterministic state machine: everything it does goes through the
// sim::Context. It has no notion of being Byzantine; strategies wrap it (byzantine.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "protocols/common/application.hpp"
#include "protocols/common/idle_timer.hpp"
#include "protocols/common/mutations.hpp"
#include "protocols/pbft/messages.hpp"
#include "sim/actor.hpp"
#include "sim/flat_map.hpp"

namespace pbft {

// Seeded bugs, for showing that the checker catches each (scenarios/mutations/); all off by
// default. Names as in the scenario; sources are Castro & Liskov, OSDI'99 (PROTOCOLS.md §1, §4).
enum class Mutation : std::uint8_t {
    // commit_quorum_2f: committed-local on 2f (q-1) matching COMMITs; §4.2 needs 2f+1.
    CommitQuorum2f,
    // prepare_ignores_digest: prepared counts PREPAREs for (v, n) of any digest; §4.2 matches d.
    PrepareIgnoresDigest,
    // new_primary_ignores_p_sets: NEW-VIEW's O is all null requests; §4.4 builds it from P sets.
    NewPrimaryIgnoresPSets,
    // backups_skip_o_check: backups take NEW-VIEW's O as sent; §4.4 has them recompute it from V.
    BackupsSkipOCheck,
    // out_of_order_execution: execute once committed-local, gaps allowed; §4.2 runs in order.
    OutOfOrderExecution,
    // transfer_without_reply_cache: a state transfer takes the executed history but not the
    // reply cache, so the replica may execute again a request the state it adopted holds, and
    // keeps waiting for the requests it executed (its request timer then leaves an honest
    // primary's view); §1.4's state includes the cache (exactly-once, §1.3 step 10).
    TransferWithoutReplyCache,
    // trust_stored_digest: a message is authentic if the signature covers its stored digest,
    // recomputed from nothing, and whoever signed it, and its body is read as its kind says
    // (read_as_kind); §4.1 (a) has the digest be the body's, and only replicas sign replica
    // messages (PROTOCOLS.md §4.12).
    TrustStoredDigest,
    // no_checkpoint_resend: CHECKPOINTs are sent once; lost ones are never replaced, so the
    // watermark window can stall for good (§4.3: the window advances only on a stable
    // checkpoint, which needs 2f+1 of them).
    NoCheckpointResend,
    // accept_replica_requests: a batch's requests are checked for their signature only in the
    // normal case, not for coming from a client (a replica id names none), and a certificate's
    // or NEW-VIEW's batches not at all, so a primary orders a request it signed as a client
    // (PROTOCOLS.md §4.12; OSDI'99 §4.1: requests are the clients').
    AcceptReplicaRequests,
    // no_catch_up: a replica that fell behind is sent nothing it misses: no STATUS, no
    // CATCH-UP (commit certificates, a stable checkpoint's proof), no NEW-VIEW for a view it
    // never saw start; it executes nothing more unless the others change view (PROTOCOLS.md
    // §4.13; Castro's thesis §5.2: status messages and retransmission).
    NoCatchUp,
    // one_request_timer: the request timer times whichever request is waiting, and every
    // execution pushes it back, so a primary that orders every client's requests but one
    // client's starves that client for as long as the others keep it busy (PROTOCOLS.md §4.13;
    // OSDI'99 §4.4: the timer is for one request, restarted only when that one executes).
    OneRequestTimer,
    // propose_before_new_view_installed: entering a view, the stable checkpoint NEW-VIEW carries
    // is taken (which lets the primary order what waits) before O's pre-prepares and the next
    // sequence number above max-s are installed, so a primary re-elected after views it never
    // installed orders old pending requests at numbers O assigns too: two PRE-PREPAREs for
    // one (view, seq) (OSDI'99 §4.4: the new primary's O fixes (min-s, max-s], fresh requests
    // get numbers above max-s).
    ProposeBeforeNewViewInstalled,
    // keep_old_view_timers: the view-change timer of a view left (joined above by the f+1 rule,
    // or by a VIEW-CHANGE of its own) keeps running; when it fires it is taken for the new
    // view's, which the replica then abandons early (PROTOCOLS.md §4.13: timers of views
    // already left must be cancelled; §1.6 rule 2 times the view the replica waits for).
    KeepOldViewTimers,
    // no_idle_status: a replica sends a STATUS only for a reason it sees (a timer, numbers or
    // views ahead of its own), never once nothing executes for a while, and a STATUS from a
    // replica that executed more tells it nothing: one cut off while the others executed the
    // last requests of a workload stays behind for good (PROTOCOLS.md §4.13; Castro's thesis
    // §5.2: status messages are sent periodically).
    NoIdleStatus,
    // proof_above_executed_only: a CATCH-UP carries the stable checkpoint's proof only when the
    // asker executed less than it, so one that executed that far but never saw it stable
    // (CHECKPOINTs lost) stays below its window and executes no certificate above it (§1.4).
    ProofAboveExecutedOnly,
    // forget_committed_cert: a view change clears a committed slot's PRE-PREPARE and COMMITs
    // once a later view takes the slot over, so no replica can hand that number's commit
    // certificate to one that missed it (PROTOCOLS.md §4.13).
    ForgetCommittedCert,
    // recover_arms_view_change_timer: a replica that recovers (state kept) in the middle of a
    // view change arms its view-change timer whether or not it holds q VIEW-CHANGEs for the
    // view, so one that alone asked for a view leaves it for the next when the timer fires
    // (OSDI'99 §4.4, PROTOCOLS.md §1.6 rule 2: the timer starts with 2f+1 VIEW-CHANGEs).
    RecoverArmsViewChangeTimer,
    // bounded_idle_status: an idle STATUS round stops after six sends (about 19 status
    // periods), answered or not: a replica cut off for longer once the workload ends stays
    // behind for good (PROTOCOLS.md §4.13; Castro's thesis §5.2: status messages are sent
    // periodically; the fix asks until every other replica answered).
    BoundedIdleStatus,
    // long_status_backoff: a STATUS round backs off up to 32 periods between asks, not four: a
    // replica cut off for a while after the workload ends asks next only long after the cut
    // heals, past any liveness bound of a few request timeouts (found by the PBFT long-outages
    // sweep; Castro's thesis §5.2: status messages are sent periodically).
    LongStatusBackoff,
    // reason_ends_idle_round: a STATUS round asked for a reason (numbers or views ahead, a
    // timer) during an idle round turns it into one that ends once q-1 replicas answered, so
    // a replica cut off since before the workload ended is asked no more and stays behind
    // (found by the PBFT long-outages sweep; Castro's thesis §5.2).
    ReasonEndsIdleRound,
    // uncapped_view_change_backoff: the view-change timer doubles per failed attempt without
    // a cap (2^20 periods at most), so views that failed through a long fault leave a timer
    // that, once the fault ends, waits far past the liveness bound for a silent primary's
    // NEW-VIEW (found by a PBFT sweep with long rules; OSDI'99 §4.5 doubles T without a cap,
    // for delays that grow without end).
    UncappedViewChangeBackoff,
    // unbounded_buffers: what a peer sends is kept without the tables' bounds: every message
    // for a later view, every CHECKPOINT above h whatever its number and however many states
    // its sender makes up, a VIEW-CHANGE for any view ahead, and a NEW-VIEW for each old
    // VIEW-CHANGE however often it comes, so one Byzantine replica grows honest memory (and
    // honest sends) without limit (PROTOCOLS.md §4.13; the window bounds the log, §1.4).
    UnboundedBuffers,
};
// In enum order.
std::vector<std::string> mutation_names();
using Mutations = proto::MutationSet<Mutation>;

struct Config {
    proto::Quorum quorum;
    std::uint64_t checkpoint_interval = 100;  // K
    std::uint64_t watermark_window = 200;     // L
    std::uint32_t batch_size = 1;             // requests per pre-prepare, at most
    proto::SimTime batch_timeout{};           // wait this long to fill a batch (0: never wait)
    proto::SimTime request_timeout = sim::seconds(1);      // §1.6 rule 1
    proto::SimTime view_change_timeout = sim::seconds(1);  // T of §1.6 rule 2
    bool state_transfer = true;  // fetch state at a stable checkpoint one is behind (§1.4)
    Mutations mutations;         // seeded bugs; empty for the honest protocol
    proto::AppFactory app;       // the replicated service (LogChain when empty)
};

class Replica : public sim::Actor {
public:
    explicit Replica(Config cfg);

    void on_start(sim::Context& ctx) override;
    void on_message(sim::Context& ctx, NodeId from, const sim::Payload& msg) override;
    void on_timer(sim::Context& ctx, std::uint64_t tag) override;
    void on_recover(sim::Context& ctx) override;
    void on_restart(sim::Context& ctx) override;

    // Read-only views for tests and strategies.
    View view() const { return view_; }
    bool view_changing() const { return view_changing_; }
    Seq low_watermark() const { return h_; }
    Seq last_executed() const { return last_exec_; }
    std::size_t live_slots() const;
    const Config& config() const { return cfg_; }
    // What an adversary made this replica refuse or drop, by bounded table (the report's
    // counters; tests check the bounds hold).
    struct Refused {
        std::uint64_t future = 0;        // normal-case messages beyond the future buffer
        std::uint64_t checkpoints = 0;   // CHECKPOINTs beyond the table's bounds
        std::uint64_t statuses = 0;      // STATUS answered too soon after the last answer
        std::uint64_t catch_ups = 0;     // invalid certificates or proofs in a CATCH-UP
        std::uint64_t view_changes = 0;  // VIEW-CHANGEs for views too far ahead
        std::uint64_t new_views = 0;     // NEW-VIEWs asked for too soon after the last answer
        std::uint64_t view_change_resends = 0;  // old VIEW-CHANGEs asked for too soon again
    };
    const Refused& refused() const { return refused_; }

private:
    enum Timer : std::uint64_t {
        kRequestTimer = 1,
        kViewChangeTimer = 2,
        kBatchTimer = 3,
        kResendViewChange = 4,
        kStatusTimer = 5,
        kStatusRetry = 6,
        kIdleTimer = 7,
    };

    // One sequence number's log entry for the view it was last touched in (§1.3).
    struct Slot {
        Seq n{};  // 0: unused
        View v{};
        MessageRef pp;
        std::vector<MessageRef> prepares, commits;             // view v, one per sender, any digest
        std::vector<std::uint64_t> prepared_by, committed_by;  // sender bitsets
        std::uint32_t prepare_match = 0, commit_match = 0;
        bool prepared = false, commit_sent = false, committed = false;
        bool executed_early = false;  // out_of_order_execution only: ran before its turn
        PreparedCert cert;  // the latest prepared certificate, kept across views (§1.5 P)
        // The PRE-PREPARE and COMMITs it committed on, when a later view took the slot over:
        // what a CATCH-UP still passes on for n (pbft/catch_up.cpp).
        CommitCert committed_cert;
        void forget_votes(bool keep_committed_cert = true);
    };
    struct CachedReply {
        std::uint64_t timestamp = 0;
        ClientMessageRef reply;
    };

    // normal_case.cpp
    void on_request(sim::Context& ctx, NodeId from, const ClientMessageRef& req);
    void on_pre_prepare(sim::Context& ctx, const MessageRef& m);
    void on_prepare(sim::Context& ctx, const MessageRef& m);
    void on_commit(sim::Context& ctx, const MessageRef& m);
    void try_propose(sim::Context& ctx, bool flush);
    void accept_pre_prepare(sim::Context& ctx, Slot& s, const MessageRef& m);
    void count_and_advance(sim::Context& ctx, Slot& s);
    // Executes n from a catch-up certificate; the slot keeps it, to pass on in turn.
    void execute_certified(sim::Context& ctx, Slot& s, const CommitCert& c);
    void move_to_view(Slot& s, View v) const;
    void try_execute(sim::Context& ctx);
    void execute_ready(sim::Context& ctx);  // in order, as far as committed or certified
    void execute_out_of_order(sim::Context& ctx, Slot& s);
    void execute(sim::Context& ctx, const PrePrepare& pp);
    void restart_request_timer(sim::Context& ctx);
    // The ring entry of sequence number n, reset when it last held another one.
    Slot& slot(Seq n) {
        Slot& s = log_[n.v & (log_.size() - 1)];
        if (s.n != n) reuse(s, n);
        return s;
    }
    void reuse(Slot& s, Seq n);
    bool in_window(Seq n) const { return n.v > h_.v && n.v <= h_.v + cfg_.watermark_window; }
    // pbft::authentic, or the signature alone under trust_stored_digest. Every check of a
    // replica message's authenticity in the replica goes through here.
    bool authentic(sim::Context& ctx, const Message& m) const {
        return cfg_.mutations.has(Mutation::TrustStoredDigest) ? signature_valid(ctx, m)
                                                               : pbft::authentic(ctx, m);
    }
    bool primary(sim::Context& ctx) const { return cfg_.quorum.primary(view_) == ctx.self(); }

    // checkpoint.cpp
    void on_checkpoint(sim::Context& ctx, const MessageRef& m);
    // `data`: the service's state at n, as a CATCH-UP carries it (none from CHECKPOINTs).
    void make_stable(sim::Context& ctx, Seq n, Digest state, std::vector<MessageRef> proof,
                     const proto::AppData& data = nullptr);
    // Adopts the service state a stable checkpoint's proof carries (history and reply cache),
    // the service's own from `data`. False (nothing changed) if the proof carries no
    // consistent state or the service refuses it.
    bool transfer_state(sim::Context& ctx, Seq n, const std::vector<MessageRef>& proof,
                        const proto::AppData& data);
    // Sends our CHECKPOINTs above the low watermark again: lost ones would otherwise keep the
    // window where it is for ever once every number in it is used.
    void resend_checkpoints(sim::Context& ctx);
    Checkpoint checkpoint_now() const;

    // catch_up.cpp: STATUS and CATCH-UP (Castro's thesis §5.2; PROTOCOLS.md §4.13).
    // Evidence that others are ahead (a message beyond the window or in a later view, a
    // CHECKPOINT above what we executed): if it still holds after a while, send a STATUS.
    void note_ahead(sim::Context& ctx, View v, Seq n);
    void note_executed(sim::Context& ctx);
    void send_status(sim::Context& ctx, bool idle = false);
    void broadcast_status(sim::Context& ctx);
    void retry_status(sim::Context& ctx);
    void on_status(sim::Context& ctx, const MessageRef& m);
    void on_catch_up(sim::Context& ctx, const MessageRef& m);
    void add_certs(const Status& st, CatchUp& out) const;
    bool valid_commit_cert(sim::Context& ctx, const CommitCert& c) const;
    // How many distinct replicas signed `ms`, each authentic and each one that `fits`; nothing
    // if one is not (a null, a second from one signer, a forgery, one that does not fit).
    template <class Fits>
    std::optional<std::size_t> distinct_signers(sim::Context& ctx,
                                                const std::vector<MessageRef>& ms,
                                                Fits fits) const {
        std::vector<std::uint32_t> seen;
        for (const auto& m : ms) {
            if (!m || !fits(*m)) return std::nullopt;
            if (std::find(seen.begin(), seen.end(), m->signer.v) != seen.end()) return std::nullopt;
            if (!authentic(ctx, *m)) return std::nullopt;
            seen.push_back(m->signer.v);
        }
        return seen.size();
    }
    // q CHECKPOINTs for (n, state) from distinct replicas, each authentic and consistent.
    bool valid_checkpoint_proof(sim::Context& ctx, const std::vector<MessageRef>& C, Seq n,
                                Digest state) const;
    proto::SimTime status_period() const { return cfg_.request_timeout; }
    // Counts what a bounded table refused, here and in the run's report (Context::refused).
    static void refuse(sim::Context& ctx, std::uint64_t& counter, const char* table) {
        ++counter;
        ctx.refused(table);
    }

    // view_change.cpp
    void start_view_change(sim::Context& ctx, View w);
    void drop_view_changes_below(View w);
    void on_view_change(sim::Context& ctx, const MessageRef& m);
    void on_new_view(sim::Context& ctx, const MessageRef& m);
    void try_new_view(sim::Context& ctx, View w);
    void apply_join_rule(sim::Context& ctx);
    void arm_view_change_timer(sim::Context& ctx);
    void enter_view(sim::Context& ctx, View w, const std::vector<MessageRef>& V,
                    const std::vector<MessageRef>& O);
    bool valid_view_change(sim::Context& ctx, const Message& m) const;
    bool valid_cert(sim::Context& ctx, const PreparedCert& c, View below) const;
    // A PRE-PREPARE's batch: d is its digest, and each request is signed by the client it names
    // (ids n and up). `carried`: inside a certificate or NEW-VIEW (unchecked by the mutation).
    bool batch_valid(sim::Context& ctx, const PrePrepare& pp, bool carried) const;
    void buffer_future(sim::Context& ctx, const MessageRef& m, View v);

    Config cfg_;
    View view_{};
    bool view_changing_ = false;
    Seq h_{};           // low watermark: last stable checkpoint
    Digest h_state_{};  // its state digest
    std::vector<MessageRef> h_proof_;
    proto::AppData h_data_;  // the service's state at h, where its digest is not all of it
    // The service's snapshots at our checkpoints not yet stable (the window holds L/K at most).
    std::map<Seq, proto::AppSnapshot> own_snapshots_;
    Seq last_exec_{};
    Seq next_seq_{1};                                  // primary: next sequence number to assign
    std::unique_ptr<proto::Application> app_;          // the service the log executes
    std::vector<Slot> log_;                            // ring of L slots, indexed by n mod L
    std::map<std::uint32_t, CachedReply> last_reply_;  // per client (§1.3 step 10)
    std::deque<ClientMessageRef> pending_;             // primary: requests not yet ordered
    // Primary: ordered in this view (membership only; no allocation per request).
    sim::FlatMap<sim::RequestKey, bool, sim::RequestKeyHash> assigned_;
    // Received, not executed (§1.6 rule 1), and the same in order of arrival: the timer is for
    // the one waiting longest.
    struct Waiting {
        ClientMessageRef req;
        std::uint64_t arrival = 0;
    };
    std::map<sim::RequestKey, Waiting> waiting_;
    // Arrival order, oldest first; entries of requests no longer waiting are skipped when met
    // (an executed request costs no tree erase), and dropped when they outnumber the waiting.
    std::deque<std::pair<std::uint64_t, sim::RequestKey>> by_arrival_;
    std::uint64_t arrivals_ = 0;
    sim::RequestKey timed_{};  // the request the timer runs for
    // Starts waiting for a request; false if already waiting.
    bool await(const sim::RequestKey& key, const ClientMessageRef& r) {
        if (!waiting_.try_emplace(key, Waiting{r, arrivals_ + 1}).second) return false;
        by_arrival_.emplace_back(++arrivals_, key);
        if (by_arrival_.size() > 2 * waiting_.size() + 64) drop_stale_arrivals();
        return true;
    }
    // Stops waiting for a request; false if it was not waited for.
    bool stop_waiting(const sim::RequestKey& key) { return waiting_.erase(key) > 0; }
    bool still_waiting(const std::pair<std::uint64_t, sim::RequestKey>& a) const {
        const auto it = waiting_.find(a.second);
        return it != waiting_.end() && it->second.arrival == a.first;
    }
    void drop_stale_arrivals();
    // The request waiting longest (waiting_ is not empty).
    const sim::RequestKey& oldest_waiting();
    // The request timer is lazy: restarting it moves a deadline; one timer event is pending at
    // most, and when it fires early it re-arms for what is left (no cancel-and-set churn).
    sim::TimerId request_timer_ = 0;
    bool request_timer_on_ = false;  // a timer event is pending
    bool request_running_ = false;   // the timer of §1.6 rule 1 is running
    bool installing_ = false;        // entering a view: its state is not installed yet
    proto::SimTime request_deadline_{};
    sim::TimerId batch_timer_ = 0;
    bool batch_timer_on_ = false;
    std::map<Seq, std::map<Digest, std::vector<MessageRef>>> checkpoints_;  // above h
    std::map<View, std::map<std::uint32_t, MessageRef>> view_changes_;      // by target view
    // The messages the two tables hold, for Context::holding without a walk per insertion.
    std::uint64_t checkpoint_entries_ = 0, view_change_entries_ = 0;
    std::set<View> new_view_sent_;
    sim::TimerId vc_timer_ = 0;
    std::uint32_t vc_attempts_ = 0;  // consecutive view changes without progress (doubling)
    View vc_timer_view_{};
    MessageRef own_view_change_;  // re-sent every view_change_timeout until the view starts
    // Our VIEW-CHANGEs for views above the last one entered, by view: re-sent on request to a
    // replica still collecting them for a view we gave up on.
    std::map<View, MessageRef> own_view_changes_;
    std::map<std::uint32_t, proto::SimTime> old_view_change_answered_;  // requester -> last time
    std::map<std::uint32_t, proto::SimTime> new_view_answered_;         // requester -> last time
    // The NEW-VIEW of the latest view entered, re-sent to a replica whose VIEW-CHANGE shows it
    // missed it (its own VIEW-CHANGE is retransmitted until it enters the view).
    MessageRef last_new_view_;
    sim::TimerId resend_timer_ = 0;
    std::vector<MessageRef> future_;  // normal-case messages for views not yet entered
    // Catch-up: commit certificates received for numbers not yet executed, in the window.
    std::map<Seq, CommitCert> certified_;
    View ahead_view_{};  // the highest view and sequence number others were seen in
    Seq ahead_seq_{};
    bool status_timer_on_ = false;
    // Idle: one STATUS round once nothing executed for a status period (pbft/catch_up.cpp).
    proto::IdleTimer idle_;
    bool asking_ = false;  // a STATUS round: re-sent until q-1 replicas answered
    std::uint32_t status_attempts_ = 0;
    std::set<std::uint32_t> answered_;
    // An idle round asks until every other replica answered (one cut off then learns it is
    // behind from the question, however long the cut), others until q-1 answered; both back
    // off up to four periods (kIdleAttempts sends at most under bounded_idle_status).
    bool idle_round_ = false;
    static constexpr std::uint32_t kIdleAttempts = 6;
    proto::SimTime status_sent_{-1};
    std::map<std::uint32_t, proto::SimTime> status_answered_;  // requester -> last answer
    std::vector<sim::ExecutedRequest> executed_scratch_;       // reused by execute()
    Refused refused_;
};

}  // namespace pbft
