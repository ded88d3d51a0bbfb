// ringfence/kernel.hpp - the kernel boundary in one include: registration.hpp
// (filters, set_no_new_privs), restrictions.hpp (task restrictions) and
// kernel_error.hpp (why the kernel refused). liburing interop is opt-in:
// ringfence/liburing.hpp.
#pragma once

#include "ringfence/kernel_error.hpp"
#include "ringfence/registration.hpp"
#include "ringfence/restrictions.hpp"
