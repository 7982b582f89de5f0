// Trains a tiny GPT on text of its own, saves a checkpoint, loads it back and generates from it:
// everything through the library, no CLI. Usage: train-and-generate [CHECKPOINT_DIR]
import BLASBackend
import Compute
import GPT
import ReferenceBackend
import Tokenizers

let text = String(repeating: "ROMEO: my love is sweet as the night.\nJULIET: and light is my love.\n\n", count: 40)
let directory = CommandLine.arguments.dropFirst().first ?? "example-checkpoint"

// Pick a backend: the best of the ones this program links.
let backend = try BackendRegistry([ReferenceBackend.plugin, BLASBackend.plugin]).make("auto")

// Train from our own data: a character tokenizer over the text and a small model.
var run = RunConfig(model: try ModelConfig.preset("char-baby"))
(run.model.layers, run.model.embeddingDim, run.model.heads, run.model.ffnDim, run.model.contextLength) = (1, 32, 2, 64, 32)
(run.training.maxSteps, run.training.batchSize, run.training.learningRate, run.training.warmupSteps) = (80, 8, 1e-2, 5)
(run.training.evalInterval, run.training.evalBatches) = (40, 2)
let corpus = try TrainingCorpus(text: text, contextLength: run.model.contextLength)
let loop = try TrainingLoop(run: run, corpus: corpus, backend: backend)
let summary = try loop.train(output: TrainingOutput(directory: directory))
print("trained \(summary.steps) steps on \(backend.name): validation loss \(summary.finalValidationLoss ?? .nan)")

// Load the checkpoint (model and tokenizer) and continue a prompt.
let (model, tokenizer) = try Checkpoint.load(from: directory, backend: backend)
let prompt = try tokenizer.encode("ROMEO:")
var sampler = try Sampler(temperature: 0.8, seed: 7)
let generated = try Generator(model: model).generate(prompt: prompt, maxTokens: 60, sampler: &sampler)
print(tokenizer.decode(prompt + generated))
