#ifndef NAS_CONTROLLER_WATCH_HUB_H_
#define NAS_CONTROLLER_WATCH_HUB_H_

#include <cstdint>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/change_listener.h"
#include "controller/search_queries.h"
#include "grpcpp/support/server_callback.h"
#include "proto/nas.pb.h"

namespace nas::controller {

class WatchReactor;

// The streaming half of SearchService.WatchSearch (part of the gRPC edge).
// Each stream gets the search's progress at once, then one update for every
// trial the scheduler or dispatcher reports changed (in order, each naming
// that trial in last_trial with its current state; changes of the search
// alone are coalesced while a write is in flight), and, every
// `poll_interval`, an update if something changed that no listener saw
// (e.g. another controller). A stream ends OK after the update that
// shows the search ended, CANCELLED when the client goes away, UNAVAILABLE
// at shutdown. One thread of its own reads the store and starts writes, so
// gRPC threads never block on the database.
// Thread-safe. Borrows `queries`, which must outlive it. Destroy it only
// after the gRPC server has shut down.
class WatchHub : public ChangeListener {
 public:
  WatchHub(SearchQueries* queries, absl::Duration poll_interval);
  ~WatchHub() override;
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  void OnSearchChanged(int64_t search_id, int64_t trial_id) override;

  // The reactor serving one WatchSearch call (finished at once with
  // NOT_FOUND, INVALID_ARGUMENT or UNAVAILABLE when it cannot be served).
  grpc::ServerWriteReactor<v1::SearchProgress>* Watch(int64_t search_id);

  // Ends every stream with UNAVAILABLE and refuses new ones. Call before
  // shutting the gRPC server down.
  void Shutdown();

 private:
  friend class WatchReactor;

  void WriteDone(WatchReactor* watcher, bool ok);
  void Cancelled(WatchReactor* watcher);
  void Pump();
  // Reads the watcher's search and writes it if it changed.
  void Refresh(WatchReactor* watcher);

  SearchQueries* const queries_;
  const absl::Duration poll_interval_;

  absl::Mutex mu_;
  absl::flat_hash_set<WatchReactor*> watchers_ ABSL_GUARDED_BY(mu_);
  bool signalled_ ABSL_GUARDED_BY(mu_) = false;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread pump_;
};

}  // namespace nas::controller

#endif  // NAS_CONTROLLER_WATCH_HUB_H_
