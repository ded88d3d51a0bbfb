// ringfence/rule_mark.hpp - which rule's code an instruction is: a mark where each rule's code starts.
//
//   const ringfence::rule_mark rules[] = {{0, "inet only"}, {5, ""}};   // 5..: shared epilogue
//   ringfence::explain(prog, ctx, rules).steps[0].rule;                // "inet only" (ringfence/explain.hpp)
//
// compile() returns these with its program (compiled::marks()); explain.hpp
// reads them. On its own so that compiling a policy does not need the
// run-time explainer's includes.
#pragma once

#include <cstddef>
#include <string_view>

namespace ringfence {

// Instructions from `first` up to the next mark are `rule`'s code. An empty
// name marks code that belongs to no rule (e.g. a shared `ret #0` epilogue).
struct rule_mark {
    std::size_t first = 0;
    std::string_view rule;
};

} // namespace ringfence
