// placeholder until the codegen work lands
#include "qopt/Pipelines/Pipelines.h"
void mlir::qopt::buildFrontendPipeline(OpPassManager &, const PipelineOptions &) {}
void mlir::qopt::buildLowerToLinalgPipeline(OpPassManager &, const PipelineOptions &) {}
void mlir::qopt::buildLowerToLLVMPipeline(OpPassManager &, const PipelineOptions &) {}
void mlir::qopt::registerQOptPipelines() {}
