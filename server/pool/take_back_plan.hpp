#pragma once

#include <cstddef>
#include <span>

namespace pivot::pool {

/// What to do after reading back the unread bytes of a busy worker's stdin pipe, whose contents
/// are the unread tail of [current request frame][queued frame 1]...[queued frame n].
struct TakeBackPlan {
  bool consistent = true;    ///< false: more bytes than were queued (something else is in the pipe): put all back
  std::size_t keep = 0;      ///< queued frames, oldest first, the worker has begun reading: they stay queued
  std::size_t put_back = 0;  ///< leading bytes of what was read that go back into the pipe (the unread rest of kept frames)
};

/// Splits `unread` bytes read back from a pipe into what stays with the worker and which queued
/// frames are taken back whole. Pure; a frame the worker has read part of always stays.
TakeBackPlan plan_take_back(std::size_t current_bytes, std::span<const std::size_t> queued_bytes, std::size_t unread) noexcept;

}  // namespace pivot::pool
