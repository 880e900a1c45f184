// placeholder
#include "qopt/Conversion/Passes.h"
namespace mlir::qopt {
#define GEN_PASS_DEF_CONVERTQOPTTOLINALGPASS
#define GEN_PASS_DEF_CONVERTONNXTOQOPTPASS
#include "qopt/Conversion/Passes.h.inc"
namespace {
struct A : impl::ConvertQOptToLinalgPassBase<A> { void runOnOperation() override {} };
struct B : impl::ConvertONNXToQOptPassBase<B> { using Base::Base; void runOnOperation() override {} };
}
}
