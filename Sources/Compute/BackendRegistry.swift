// Backend plugins and the registry that picks one by name.
// Each backend target exports one `BackendPlugin` value; the CLI lists them in one array. The model,
// trainer and conformance suite only ever see `any Backend`.

/// Options a user may pass when creating a backend.
public struct BackendOptions: Sendable {
    /// Device index or name substring (backends with several devices, e.g. OpenCL).
    public var device: String?
    /// CPU threads (nil: all cores).
    public var threads: Int?
    /// With no `device` named, which of the devices the backend would prefer to take: the n-th
    /// (modulo their number). A data-parallel rank passes its index among the ranks on its machine,
    /// so that `mpirun -n 8` on an 8-GPU node puts one rank on each GPU. nil: the first.
    public var deviceOrdinal: Int?

    /// All nil: the backend's own choice of device and every core.
    public init(device: String? = nil, threads: Int? = nil, deviceOrdinal: Int? = nil) {
        self.device = device
        self.threads = threads
        self.deviceOrdinal = deviceOrdinal
    }
}

/// Whether a backend can be created on this machine.
public enum Availability: Sendable {
    /// Usable; `devices` describes what it would run on.
    case available(devices: [String])
    /// Not usable, and why (e.g. "libopenblas.so.0: cannot open shared object file: ...: apt-get install libopenblas0").
    case unavailable(reason: String)

    /// True for `.available`, whatever its devices.
    public var isAvailable: Bool {
        if case .available = self { return true }
        return false
    }
}

/// One backend's registration: its name, how to probe for it, how to make it.
public struct BackendPlugin: Sendable {
    /// The `--backend` value that selects it ("reference", "blas", "opencl"); unique in a registry.
    public let name: String
    /// One line for `gpt backends`.
    public let summary: String
    /// Higher wins for `auto` (opencl GPU > blas > reference).
    public let priority: Int
    /// Whether it can run here: cheap enough for every `gpt backends` and `auto`, never throws
    /// (a missing library is `.unavailable` with the package that provides it).
    public let probe: @Sendable () -> Availability
    /// Creates a backend with `options`; throws `BackendError.unavailable` (or the backend's own
    /// error) when it cannot, e.g. no such device.
    public let make: @Sendable (BackendOptions) throws -> any Backend
    /// Extra lines for `gpt backends` only (e.g. a library setting the backend overrode); may cost
    /// more than a probe, so nothing else asks.
    public let notes: @Sendable () -> [String]

    /// A plugin value, one per backend target; `notes` defaults to none.
    public init(name: String, summary: String, priority: Int,
                probe: @escaping @Sendable () -> Availability,
                make: @escaping @Sendable (BackendOptions) throws -> any Backend,
                notes: @escaping @Sendable () -> [String] = { [] }) {
        self.name = name
        self.summary = summary
        self.priority = priority
        self.probe = probe
        self.make = make
        self.notes = notes
    }
}

/// Why `BackendRegistry.resolve(_:)` found no backend to make. Each case carries what the message
/// lists, so a user sees the choices in the same line as the failure.
public enum RegistryError: Error, CustomStringConvertible {
    /// No plugin has this name; `available` lists the usable names (with "auto").
    case unknown(name: String, available: [String])
    /// The plugin exists but its probe said it cannot run here, and why.
    case unavailable(name: String, reason: String, available: [String])
    /// "auto" was asked for and no plugin can run here: one reason per plugin.
    case noneAvailable(reasons: [String])

    /// One line naming the backend asked for and the ones that would work.
    public var description: String {
        switch self {
        case let .unknown(name, available):
            return "unknown backend '\(name)'; available: \(available.joined(separator: ", "))"
        case let .unavailable(name, reason, available):
            return "backend '\(name)' is unavailable (\(reason)); available: \(available.joined(separator: ", "))"
        case let .noneAvailable(reasons):
            return "no backend is available: \(reasons.joined(separator: "; "))"
        }
    }
}

/// The backends a program links, found by name. The CLI holds one with every plugin; a program using
/// the libraries builds its own from the plugins it links.
public struct BackendRegistry: Sendable {
    /// The registered plugins, highest `priority` first (the order `auto` tries them in).
    public let plugins: [BackendPlugin]

    /// A registry of `plugins`, in any order; names should be unique (the first of a name wins).
    public init(_ plugins: [BackendPlugin]) {
        self.plugins = plugins.sorted { $0.priority > $1.priority }
    }

    /// Every plugin with its probe result, best first.
    public func survey() -> [(plugin: BackendPlugin, availability: Availability)] {
        plugins.map { ($0, $0.probe()) }
    }

    /// Names of the backends usable here, best first.
    public var availableNames: [String] {
        survey().filter { $0.availability.isAvailable }.map(\.plugin.name)
    }

    /// The plugin `auto` resolves to, or `name`'s plugin. Throws a one-line error listing the
    /// available backends when the name is unknown or the backend cannot run here.
    public func resolve(_ name: String) throws -> BackendPlugin {
        let surveyed = survey()
        let available = surveyed.filter { $0.availability.isAvailable }.map(\.plugin.name)
        if name == "auto" {
            if let best = surveyed.first(where: { $0.availability.isAvailable }) { return best.plugin }
            throw RegistryError.noneAvailable(reasons: surveyed.map { entry in
                if case let .unavailable(reason) = entry.availability { return "\(entry.plugin.name): \(reason)" }
                return entry.plugin.name
            })
        }
        guard let entry = surveyed.first(where: { $0.plugin.name == name }) else {
            throw RegistryError.unknown(name: name, available: ["auto"] + available)
        }
        if case let .unavailable(reason) = entry.availability {
            throw RegistryError.unavailable(name: name, reason: reason, available: ["auto"] + available)
        }
        return entry.plugin
    }

    /// Creates the named backend (or the best available one for "auto").
    public func make(_ name: String, options: BackendOptions = BackendOptions()) throws -> any Backend {
        try resolve(name).make(options)
    }
}
