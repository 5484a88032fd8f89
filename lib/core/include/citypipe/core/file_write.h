// The one way a tool writes a whole file (a model, a metrics file): readers
// see the old content or the new, never half of it.
#pragma once

#include <string>
#include <string_view>

#include "citypipe/core/status.h"

namespace citypipe {

// Writes text to path:
//  - "-" is standard output;
//  - a symbolic link is followed, and its target written (the link stays);
//  - an existing non-regular file (a FIFO, a device) is written straight to;
//  - otherwise through a temporary file made by mkstemp(3) in the target's
//    directory, fsync(2)ed and renamed over the target (keeping an existing
//    file's permissions); the temporary is removed on any failure.
// Fails with errc::io naming the path and the reason.
Status write_file_atomically(const std::string& path, std::string_view text);

}  // namespace citypipe
