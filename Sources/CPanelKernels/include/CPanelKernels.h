// Everything the Swift side imports from CPanelKernels.
#include "panel_matmul.h"
#include "block_panels.h"
#include "cpu_relax.h"
#include "bf16_panels.h"
