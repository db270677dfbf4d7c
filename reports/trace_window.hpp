// What report.html draws, kept while a run goes, in bounded memory: the messages of one window
// of virtual time (at most kMaxMessages of them), every node's views, commits and crashes (at
// most kMaxMarks of each kind), and the whole run's message count per time bucket (kBuckets
// buckets whose width doubles as the run grows).
//
// The window: the one asked for (--window A..B); else, when the run stops at a violation, the
// last kMaxMessages messages before it; else the first kMaxMessages of the run.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "sim/trace.hpp"

namespace reports {

class TraceWindow final : public sim::TraceSink {
public:
    static constexpr std::size_t kMaxMessages = 1500;
    static constexpr std::size_t kMaxMarks = 20000;
    static constexpr std::size_t kBuckets = 200;

    struct Message {
        std::uint64_t event = 0;
        std::int64_t sent = 0, at = 0;  // at: delivered, or dropped or held (then at = sent)
        std::uint32_t from = 0, to = 0;
        std::uint16_t kind = 0;  // index in the run's kind names
        sim::TraceRecord::Kind what = sim::TraceRecord::Kind::Deliver;
        bool corrupted = false;
    };
    struct Mark {
        std::int64_t at = 0;
        std::uint32_t node = 0;
        std::uint64_t value = 0;  // the view, the index, 1 if a recovery lost state
        sim::TraceRecord::Kind what = sim::TraceRecord::Kind::View;
    };

    // A window asked for: messages whose event falls in [from, to].
    explicit TraceWindow(std::optional<std::pair<std::int64_t, std::int64_t>> asked = {})
        : asked_(asked) {}
    void record(const sim::TraceRecord& r) override;
    bool wants_notes() const override { return false; }

    // Settles the window once the run ended at `end` (at a violation found at `violation`).
    void finish(std::int64_t end, std::optional<std::int64_t> violation);
    // The window's messages, in event order, and its bounds: every message whose event falls in
    // [first, second] is there, unless complete() is false (more than kMaxMessages asked for).
    const std::deque<Message>& messages() const { return window_; }
    std::pair<std::int64_t, std::int64_t> bounds() const { return bounds_; }
    bool complete() const { return !truncated_; }
    const std::vector<Mark>& marks() const { return marks_; }
    std::size_t marks_left_out() const { return marks_left_out_; }
    // Messages per bucket over the whole run, and a bucket's width.
    const std::vector<std::uint64_t>& density() const { return buckets_; }
    std::int64_t bucket_ns() const { return bucket_ns_; }

private:
    void count(std::int64_t at);

    std::optional<std::pair<std::int64_t, std::int64_t>> asked_;
    bool truncated_ = false;
    std::deque<Message> window_;  // asked: those in it; then the settled window
    std::deque<Message> first_;   // the run's first kMaxMessages
    std::vector<Message> last_;   // its last kMaxMessages, a ring from last_head_
    std::size_t last_head_ = 0;
    std::optional<std::int64_t> first_cut_;  // the time of the first message first_ left out
    std::optional<std::int64_t> last_cut_;   // the time of the last message last_ let go
    std::pair<std::int64_t, std::int64_t> bounds_{};
    std::vector<Mark> marks_;
    std::size_t marks_left_out_ = 0;
    std::vector<std::uint64_t> buckets_ = std::vector<std::uint64_t>(kBuckets, 0);
    std::int64_t bucket_ns_ = 1'000'000;
    std::size_t bucket_ = 0;               // the bucket of the latest message
    std::int64_t bucket_end_ = 1'000'000;  // where it ends
};

}  // namespace reports
