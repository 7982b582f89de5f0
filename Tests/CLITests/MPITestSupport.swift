// What the data-parallel CLI tests need around the binary: mpirun (found on PATH, run as root with
// more ranks than cores allowed: a CI machine), a run started in the background whose ranks can be
// found (children of mpirun, told apart by OMPI_COMM_WORLD_RANK) and signalled, and the values of
// a checkpoint's safetensors files, to compare two runs.

import Foundation

enum MPI {
    /// mpirun on PATH, or nil (the data-parallel tests are skipped then).
    static let mpirun: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent("mpirun") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Whether `gpt` can run distributed here: mpirun exists and gpt loads libmpi.
    static let isAvailable: Bool = {
        guard mpirun != nil, let run = try? CLI.run(["backends"]) else { return false }
        return run.stdout.contains("distributed training (MPI): available")
    }()

    /// What `mpirun -n ranks gpt arguments...` is started with.
    static func arguments(ranks: Int, _ arguments: [String]) -> [String] {
        ["--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)", CLI.executable.path] + arguments
    }

    /// Runs `gpt arguments...` on `ranks` ranks and waits for it.
    static func run(ranks: Int, _ arguments: [String]) throws -> Run {
        try CLI.run(Self.arguments(ranks: ranks, arguments), executable: mpirun!)
    }

    /// The safetensors file's tensors by name (float32 only, as checkpoints hold).
    static func tensors(_ path: String) throws -> [String: [Float]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        var tensors: [String: [Float]] = [:]
        for (name, value) in header where name != "__metadata__" {
            let offsets = (value as! [String: Any])["data_offsets"] as! [Int]
            let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
            tensors[name] = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return tensors
    }

    /// The largest |a - b| over every tensor of two checkpoints' `file`, or infinity when they
    /// hold different tensors.
    static func largestDifference(_ file: String, _ first: String, _ second: String) throws -> Float {
        let a = try tensors(first + "/" + file), b = try tensors(second + "/" + file)
        guard Set(a.keys) == Set(b.keys) else { return .infinity }
        return a.map { name, values in zip(values, b[name]!).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
    }

    /// A log's train losses by step.
    static func losses(_ directory: String) throws -> [Int: Float] {
        let lines = try String(contentsOfFile: directory + "/log.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        return Dictionary(uniqueKeysWithValues: lines.map {
            let fields = $0.split(separator: ",", omittingEmptySubsequences: false)
            return (Int(fields[0])!, Float(fields[1])!)
        })
    }

    /// The largest |a - b| / |b| over the steps both logs hold (and whether they hold the same steps).
    static func largestRelativeDifference(_ first: [Int: Float], _ second: [Int: Float]) -> Float {
        guard Set(first.keys) == Set(second.keys), !first.isEmpty else { return .infinity }
        return first.map { step, loss in abs(loss - second[step]!) / abs(second[step]!) }.max()!
    }
}

/// `mpirun ... gpt ...` running in the background, its output in files.
final class BackgroundRun {
    let process = Process()
    private let directory: String

    init(ranks: Int, _ arguments: [String], directory: String) throws {
        self.directory = directory
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        process.executableURL = MPI.mpirun!
        process.arguments = MPI.arguments(ranks: ranks, arguments)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        try process.run()
    }

    var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds (true) or `seconds` pass or the run ends (false).
    func wait(upTo seconds: Double, until condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && process.isRunning {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// Seconds until the run ended, or nil when it still runs after `seconds` (it is killed then).
    func secondsToExit(upTo seconds: Double) -> Double? {
        let start = Date()
        _ = wait(upTo: seconds) { false }
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        return Date().timeIntervalSince(start)
    }

    /// The process id of rank `rank` (a child of mpirun whose environment says so).
    func pid(ofRank rank: Int) -> Int32? {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        return children.first { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"),
                  Int32(stat[stat.index(close, offsetBy: 4)...].split(separator: " ").first ?? "") == process.processIdentifier,
                  let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
            return environment.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "OMPI_COMM_WORLD_RANK=\(rank)" }
        }
    }
}
