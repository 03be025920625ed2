#include "engine/write_keeping_good.h"

namespace hanshiro::engine {

Result<std::vector<Result<EventId>>> WriteKeepingGood(DB* db, std::vector<Event> events) {
  std::vector<Result<EventId>> out;
  auto ids = db->WriteBatch(events);  // a copy: a refused batch is written again event by event
  if (ids.ok()) {
    out.assign(ids->begin(), ids->end());
    return out;
  }
  if (!ids.status().IsInvalidArgument()) return ids.status();
  for (Event& e : events) {
    Result<EventId> id = db->Write(std::move(e));
    if (!id.ok() && !id.status().IsInvalidArgument()) return id.status();
    out.push_back(std::move(id));
  }
  return out;
}

}  // namespace hanshiro::engine
