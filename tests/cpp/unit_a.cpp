// The header included from two C++ translation units links into one program.
#include "gumbel.h"

const char *version_from_unit_a() { return gumbel_version(); }
