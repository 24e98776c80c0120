// @lsp/oracle: the float64 reference device (the definition of every DeviceV1 kernel) and the comparison
// helpers backend tests run against it.
export { createOracleDevice, OracleDevice, OracleTensor, float16ToNumber, bfloat16ToNumber } from './oracle-device';
export { compareWithOracle, kernelCases, createRandom, randomFloats, float32Tolerance } from './oracle-compare';
export type { KernelCase, Tolerance, Comparison, OutputComparison } from './oracle-compare';
