// The options every command that runs a backend shares, declared once here: --backend, --device and
// --threads (BackendSelection), --seed and --config; and the two that take a model or a tokenizer
// from a checkpoint directory (ours, or one transformers wrote): --init-from and --tokenizer-from.
// Each is a function that makes a fresh option, because options hold what the parser gave them.

import Compute
import GPT

enum CommonOptions {
    /// --backend NAME: a backend from the registry, or auto. A name no plugin has is a usage
    /// error (exit 64); one that cannot run on this machine is the registry's runtime error.
    static func backend() -> Option<String> {
        Option("backend", backendName, default: TrainingSettings().backend, help: "compute backend (see gpt backends)")
    }

    /// A registered backend's name or auto, with `NAME` as help's placeholder.
    static let backendName: ValueType<String> = {
        let choice = Choice.names(["auto"] + backendRegistry.plugins.map(\.name).sorted())
        return ValueType(placeholder: "NAME", parse: choice.parse, describe: choice.describe)
    }()

    /// --device ID: which device of a backend that has several.
    static func device() -> Option<String> {
        Option("device", .text("ID"), help: "device index or name substring (OpenCL)")
    }

    /// --threads N: CPU threads of a CPU backend (and of other multi-threaded work).
    static func threads() -> Option<Int> {
        // More threads than any machine has cores only cost thread start-ups; the bound keeps the
        // parallel loops' chunk counts (threads x chunks per thread) far from overflowing.
        Option("threads", .integer(atLeast: 1, atMost: 4096), documentedDefault: "all", help: "CPU threads for CPU backends")
    }

    /// --seed S: everything random in a run derives from it.
    static func seed() -> Option<UInt64> {
        Option("seed", .seed, default: TrainingSettings().seed,
               help: "seed of everything random: initial weights, batches, dropout, sampling")
    }

    /// --init-from DIR: gpt train starts from the weights and architecture of a checkpoint.
    static func initFrom() -> Option<String> {
        Option("init-from", .path("DIR"),
               help: "fine-tune the checkpoint in DIR (ours, or saved by transformers): its architecture and weights, "
                   + "a fresh optimizer; the data must use its tokenizer (gpt prepare --tokenizer-from DIR, or a text file)")
    }

    /// --tokenizer-from DIR: gpt prepare encodes with a checkpoint's tokenizer.
    static func tokenizerFrom() -> Option<String> {
        Option("tokenizer-from", .path("DIR"),
               help: "encode with the tokenizer of the checkpoint in DIR (its tokenizer.json and companion files) "
                   + "instead of building one")
    }

    /// --config: a model preset or a config file (see `loadRunConfig`).
    static func config() -> Option<String> {
        Option("config", .text("PRESET|FILE.json"), default: "char-baby",
               help: "a preset (\(ModelConfig.presetNames.joined(separator: ", "))), a ModelConfig JSON, "
                   + "or a run config JSON with \"model\"/\"training\" sections")
    }
}

/// --backend, --device and --threads: which backend a command runs on, and on what.
struct BackendSelection {
    let backend: Option<String>
    let device = CommonOptions.device()
    let threads = CommonOptions.threads()

    init(backend: Option<String> = CommonOptions.backend()) {
        self.backend = backend
    }

    var all: [any AnyOption] { [backend, device, threads] }

    /// What every backend is made with.
    var backendOptions: BackendOptions { BackendOptions(device: device.given, threads: threads.given) }

    /// The backend `name` names (default: --backend's).
    func make(_ name: String? = nil) throws -> any Backend {
        try backendRegistry.make(name ?? backend.value, options: backendOptions)
    }
}
