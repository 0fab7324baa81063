// Second translation unit including gumbel.hpp (see wrapper_a.cpp).
#include "gumbel.hpp"

std::string version_from_unit_b() { return gumbel::version(); }
double mean_from_unit_b() { return gumbel::dist::mean<double>(); }
