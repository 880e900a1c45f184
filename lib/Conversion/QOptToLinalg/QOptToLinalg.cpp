// placeholder
#include "qopt/Conversion/Passes.h"
namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOLINALGPASS
#include "qopt/Conversion/Passes.h.inc"
namespace {
struct A : impl::ConvertQOptToLinalgPassBase<A> { void runOnOperation() override {} };
}
}
