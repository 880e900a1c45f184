// Placeholder passes until the codegen work lands (do not ship).
#include "qopt/Codegen/Passes.h"
namespace mlir::qopt {
#define GEN_PASS_DEF_QOPTRECORDABIPASS
#define GEN_PASS_DEF_QOPTEXTERNALIZEWEIGHTSPASS
#define GEN_PASS_DEF_QOPTEMITENTRYPASS
#include "qopt/Codegen/Passes.h.inc"
namespace {
struct A : impl::QOptRecordABIPassBase<A> { void runOnOperation() override {} };
struct B : impl::QOptExternalizeWeightsPassBase<B> { using Base::Base; void runOnOperation() override {} };
struct C : impl::QOptEmitEntryPassBase<C> { void runOnOperation() override {} };
}
}
