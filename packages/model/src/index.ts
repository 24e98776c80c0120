// @lsp/model: the Llama-family transformer written once over DeviceV1, Hugging Face folders in and out,
// and the logic of the `score` and `generate` commands.
export { LlamaModel } from './policy-model';
export type { GenerateOptions, ModelSource } from './policy-model';
export { loadModel, saveModel, readModelConfig, createLlamaModelLoader } from './model-folder';
export type { LoadModelOptions, ModelLoaderSettings } from './model-folder';
export { parseModelConfig, expectedTensors, supportedArchitectures } from './model-config';
export type { ModelConfig, Architecture, RopeScaling, StorageDType, TensorSpec } from './model-config';
export {
  readSafetensorsHeader, readModelTensorIndex, readTensorData, writeSafetensors, toBfloat16Bits, toFloat16Bits,
} from './safetensors';
export type { TensorEntry, SafetensorsDType, TensorToWrite } from './safetensors';
export { inverseFrequencies, ropeTables } from './rope';
export { writeRandomModel } from './random-model';
export { runScore, runGenerate, scoreSequences, parseScoreInput, generationDefaults } from './model-commands';
export type { ScoreLine, GenerateCommandOptions } from './model-commands';
export type { RandomModelOptions } from './random-model';
export { exportGguf, ggufDTypes, quantizeQ8_0, dequantizeQ8_0, permuteForLlamaRope } from './gguf-export';
export type { GgufDType, GgufExportOptions, GgufExportSummary } from './gguf-export';
export {
  allLoraTargets, createLoraState, loraScaling, loraTargets, parseLoraTargets, checkLoraSettings,
} from './lora';
export type { LoraAdapter, LoraSettings, LoraState, LoraTarget } from './lora';
export {
  adapterConfigJson, baseFolderOf, isAdapterFolder, loadAdapterView, loadLoraAdapter, mergeAdapter, readAdapterConfig,
  readLoraState, saveLoraAdapter,
} from './lora-folder';
export type { AdapterConfig, MergeOptions, MergeSummary } from './lora-folder';
export type { ParameterSummary } from './policy-model';
