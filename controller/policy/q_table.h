#ifndef NAS_CONTROLLER_POLICY_Q_TABLE_H_
#define NAS_CONTROLLER_POLICY_Q_TABLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "proto/nas.pb.h"

namespace nas::controller {

// One Q-table entry: its value and how many updates made it.
struct QEntry {
  double q = 0;
  int32_t updates = 0;
};

// A Q-table: values of (state, action) pairs, both readable strings. A pair
// that is not in the table has the policy's initial value (the caller's
// `initial_q`). Not thread-safe; a value type.
class QTable {
 public:
  // Actions of one state.
  using Actions = absl::flat_hash_map<std::string, QEntry>;

  // The entry of (state, action); nullptr when there is none.
  const QEntry* Find(absl::string_view state, absl::string_view action) const;
  // The entries of `state`; nullptr when it has none.
  const Actions* FindState(absl::string_view state) const;
  // The value of (state, action), `initial_q` when the pair is not there.
  double Value(absl::string_view state, absl::string_view action,
               double initial_q) const;

  // Inserts or replaces one entry.
  void Set(absl::string_view state, absl::string_view action,
           const QEntry& entry);
  void Clear();
  int64_t size() const { return size_; }

  // Every entry, sorted by (state, action).
  std::vector<v1::QValue> Entries() const;
  // The `n` highest entries: q descending, ties by (state, action).
  std::vector<v1::QValue> Top(int n) const;

 private:
  absl::flat_hash_map<std::string, Actions> states_;
  int64_t size_ = 0;
};

// Updates computed on top of a QTable that is left untouched, so that a
// policy can say what an observation would change without changing itself.
// Borrows `base`, which must outlive the overlay and not change meanwhile.
// Not thread-safe.
class QTableOverlay {
 public:
  QTableOverlay(const QTable* base, double initial_q);

  // The highest Value of (state, a) over `actions` (non-empty).
  double MaxValue(absl::string_view state,
                  const std::vector<std::string>& actions) const;
  // Q(state, action) <- (1 - alpha) Q + alpha * target; one more update.
  void Update(absl::string_view state, absl::string_view action, double target,
              double alpha);

  // Every entry updated so far with its new value and update count, sorted
  // by (state, action).
  std::vector<v1::QValue> Changes() const { return changes_.Entries(); }
  // Entries of the table with the changes applied.
  int64_t size() const { return base_->size() + added_; }

 private:
  const QTable* base_;
  const double initial_q_;
  QTable changes_;
  int64_t added_ = 0;  // Changed pairs that are not in base_.
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_POLICY_Q_TABLE_H_
