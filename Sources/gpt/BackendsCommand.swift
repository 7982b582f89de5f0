// `gpt backends`: every registered backend, whether it can run here (or why not), its devices,
// which one `--backend auto` would pick, and whether distributed training (MPI) is available.

import Compute
import MPICommunicator

/// `gpt backends` takes no options.
struct NoOptions: OptionGroup {
    var all: [any AnyOption] { [] }
}

let backendsCommand = Command("backends", summary: "list the compute backends, whether each is available here, and their devices",
                              options: NoOptions.self) { _ in
    let survey = backendRegistry.survey()
    let width = (survey.map(\.plugin.name.count).max() ?? 0) + 2
    for (plugin, availability) in survey {
        let name = plugin.name + String(repeating: " ", count: width - plugin.name.count)
        switch availability {
        case let .available(devices):
            print(name + "available    " + plugin.summary)
            for device in devices { print(String(repeating: " ", count: width) + "  device: " + device) }
            for note in plugin.notes() { print(String(repeating: " ", count: width) + "  note: " + note) }
        case let .unavailable(reason):
            print(name + "unavailable  " + plugin.summary)
            print(String(repeating: " ", count: width) + "  why not: " + reason)
        }
    }
    if let best = try? backendRegistry.resolve("auto") {
        print("auto -> \(best.name)")
    }
    print("distributed training (MPI): " + MPILaunch.availability())
}
