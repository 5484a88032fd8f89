#include "citypipe/core/status.h"

namespace citypipe {

int exit_code_for(errc e) {
  switch (e) {
    case errc::ok: return exit_ok;
    case errc::invalid_argument: return exit_usage;
    case errc::corrupt: return exit_data;
    case errc::not_found: return exit_no_input;
    case errc::unavailable: return exit_unavailable;
    case errc::io: return exit_io;
    case errc::interrupted: return exit_interrupted;
  }
  return exit_io;
}

Status Status::error(int exit_code, std::string message) {
  errc kind = errc::io;
  switch (exit_code) {
    case exit_usage: kind = errc::invalid_argument; break;
    case exit_data: kind = errc::corrupt; break;
    case exit_no_input: kind = errc::not_found; break;
    case exit_unavailable: kind = errc::unavailable; break;
    case exit_interrupted: kind = errc::interrupted; break;
    default: kind = errc::io; break;
  }
  return Status(kind, std::move(message));
}

}  // namespace citypipe
