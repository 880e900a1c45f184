#include "Converter.h"
using namespace mlir; using namespace mlir::qopt::onnx;
void mlir::qopt::onnx::registerNNOps(HandlerRegistry &r) {}
