#include "controller/policy/q_table.h"

#include <algorithm>
#include <tuple>

namespace nas::controller {
namespace {

v1::QValue ToProto(const std::string& state, const std::string& action,
                   const QEntry& entry) {
  v1::QValue value;
  value.set_state(state);
  value.set_action(action);
  value.set_q(entry.q);
  value.set_updates(entry.updates);
  return value;
}

bool ByKey(const v1::QValue& a, const v1::QValue& b) {
  return std::tie(a.state(), a.action()) < std::tie(b.state(), b.action());
}

bool ByValueThenKey(const v1::QValue& a, const v1::QValue& b) {
  if (a.q() != b.q()) return a.q() > b.q();
  return ByKey(a, b);
}

const QEntry* FindIn(const QTable::Actions* actions, absl::string_view action) {
  if (actions == nullptr) return nullptr;
  auto it = actions->find(action);
  return it == actions->end() ? nullptr : &it->second;
}

}  // namespace

const QTable::Actions* QTable::FindState(absl::string_view state) const {
  auto it = states_.find(state);
  return it == states_.end() ? nullptr : &it->second;
}

const QEntry* QTable::Find(absl::string_view state,
                           absl::string_view action) const {
  return FindIn(FindState(state), action);
}

double QTable::Value(absl::string_view state, absl::string_view action,
                     double initial_q) const {
  const QEntry* entry = Find(state, action);
  return entry == nullptr ? initial_q : entry->q;
}

void QTable::Set(absl::string_view state, absl::string_view action,
                 const QEntry& entry) {
  Actions& actions = states_[state];
  auto [it, inserted] = actions.try_emplace(action, entry);
  if (inserted) {
    ++size_;
  } else {
    it->second = entry;
  }
}

void QTable::Clear() {
  states_.clear();
  size_ = 0;
}

std::vector<v1::QValue> QTable::Entries() const {
  std::vector<v1::QValue> out;
  out.reserve(size_);
  for (const auto& [state, actions] : states_) {
    for (const auto& [action, entry] : actions) {
      out.push_back(ToProto(state, action, entry));
    }
  }
  std::sort(out.begin(), out.end(), ByKey);
  return out;
}

std::vector<v1::QValue> QTable::Top(int n) const {
  std::vector<v1::QValue> all = Entries();
  const size_t keep = std::min(all.size(), static_cast<size_t>(std::max(n, 0)));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), ByValueThenKey);
  all.resize(keep);
  return all;
}

QTableOverlay::QTableOverlay(const QTable* base, double initial_q)
    : base_(base), initial_q_(initial_q) {}

double QTableOverlay::MaxValue(absl::string_view state,
                               const std::vector<std::string>& actions) const {
  // One state lookup per table, then one per action: this is the inner loop
  // of experience replay.
  const QTable::Actions* changed = changes_.FindState(state);
  const QTable::Actions* stored = base_->FindState(state);
  double best = 0;
  for (size_t i = 0; i < actions.size(); ++i) {
    const QEntry* entry = FindIn(changed, actions[i]);
    if (entry == nullptr) entry = FindIn(stored, actions[i]);
    const double q = entry == nullptr ? initial_q_ : entry->q;
    if (i == 0 || q > best) best = q;
  }
  return best;
}

void QTableOverlay::Update(absl::string_view state, absl::string_view action,
                           double target, double alpha) {
  // One lookup per table: this is the inner loop of experience replay.
  QEntry entry{initial_q_, 0};
  if (const QEntry* changed = changes_.Find(state, action)) {
    entry = *changed;
  } else if (const QEntry* stored = base_->Find(state, action)) {
    entry = *stored;
  } else {
    ++added_;
  }
  entry.q = (1 - alpha) * entry.q + alpha * target;
  ++entry.updates;
  changes_.Set(state, action, entry);
}

}  // namespace nas::controller
