#include "reports/trace_window.hpp"

#include <algorithm>

namespace reports {

// A bucket per bucket_ns_ from time 0; when the run outgrows them, pairs merge and the width
// doubles, so the buckets always cover the run so far.
void TraceWindow::count(std::int64_t at) {
    // Times only grow, so the bucket only moves forward (no division per message).
    while (at >= bucket_end_) {
        if (bucket_ + 1 == kBuckets) {
            for (std::size_t i = 0; i < kBuckets / 2; ++i)
                buckets_[i] = buckets_[2 * i] + buckets_[2 * i + 1];
            std::fill(buckets_.begin() + kBuckets / 2, buckets_.end(), 0);
            bucket_ns_ *= 2;
            bucket_ = kBuckets / 2 - 1;
            bucket_end_ = bucket_ns_ * static_cast<std::int64_t>(bucket_ + 1);
            continue;
        }
        ++bucket_;
        bucket_end_ += bucket_ns_;
    }
    ++buckets_[bucket_];
}

void TraceWindow::record(const sim::TraceRecord& r) {
    using K = sim::TraceRecord::Kind;
    switch (r.kind) {
        case K::View:
        case K::Commit:
        case K::Crash:
        case K::Recover:
            if (marks_.size() < kMaxMarks) {
                marks_.push_back({r.t, r.to, r.tag, r.kind});
            } else {
                ++marks_left_out_;
            }
            return;
        case K::Deliver:
        case K::Drop:
        case K::RuleDrop:
        case K::Hold:
            break;
        default:
            return;
    }
    count(r.t);
    const Message m{r.event,    r.sent >= 0 ? r.sent : r.t, r.t, r.from, r.to, r.msg_kind, r.kind,
                    r.corrupted};
    if (asked_) {
        if (r.t < asked_->first || r.t > asked_->second) return;
        if (window_.size() < kMaxMessages) {
            window_.push_back(m);
        } else {
            truncated_ = true;
        }
        return;
    }
    if (first_.size() < kMaxMessages) {
        first_.push_back(m);
    } else if (!first_cut_) {
        first_cut_ = r.t;
    }
    if (last_.size() < kMaxMessages) {
        last_.push_back(m);
        return;
    }
    last_cut_ = last_[last_head_].at;
    last_[last_head_] = m;
    last_head_ = (last_head_ + 1) % kMaxMessages;
}

void TraceWindow::finish(std::int64_t end, std::optional<std::int64_t> violation) {
    if (asked_) {
        bounds_ = *asked_;
        return;
    }
    if (violation) {
        // The last messages up to the violation, from just after the latest time let go.
        window_.assign(last_.begin() + static_cast<std::ptrdiff_t>(last_head_), last_.end());
        window_.insert(window_.end(), last_.begin(),
                       last_.begin() + static_cast<std::ptrdiff_t>(last_head_));
        const std::int64_t from = last_cut_ ? *last_cut_ + 1 : 0;
        while (!window_.empty() && window_.front().at < from) window_.pop_front();
        bounds_ = {from, *violation};
    } else {
        // The first messages, up to just before the earliest time left out.
        window_ = std::move(first_);
        const std::int64_t to = first_cut_ ? *first_cut_ - 1 : end;
        while (!window_.empty() && window_.back().at > to) window_.pop_back();
        bounds_ = {0, to};
    }
    first_.clear();
    last_.clear();
}

}  // namespace reports
