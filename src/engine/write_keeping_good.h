// WriteKeepingGood: a batch of events from untrusted input (a bulk request,
// a file), written so that one bad event does not cost the others.
#ifndef HANSHIRO_ENGINE_WRITE_KEEPING_GOOD_H_
#define HANSHIRO_ENGINE_WRITE_KEEPING_GOOD_H_

#include <vector>

#include "hanshiro/db.h"

namespace hanshiro::engine {

// Writes `events` as one batch. When the database refuses a value of it
// (InvalidArgument: nothing was written), writes each event on its own, so
// the good ones are kept and the bad ones get their reason. One result per
// event, in order; an error of another kind (I/O, corruption) is returned as
// it is, and events before it may have been written.
Result<std::vector<Result<EventId>>> WriteKeepingGood(DB* db, std::vector<Event> events);

}  // namespace hanshiro::engine

#endif  // HANSHIRO_ENGINE_WRITE_KEEPING_GOOD_H_
