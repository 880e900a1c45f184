#include "Converter.h"
using namespace mlir; using namespace mlir::qopt::onnx;
void mlir::qopt::onnx::registerReductionOps(HandlerRegistry &r) {}
