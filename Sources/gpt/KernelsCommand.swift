// `gpt kernels`: the OpenCL programs the backend would build, as JSON lines, for a named device
// profile (no device needed; scripts/ptx-check reads them) or, with --build, for this machine's
// OpenCL device, building each one and printing its build time (gpu-suite warms the program cache
// with it). The logic is OpenCLProgramPlan's; this file only parses flags and prints.

import Compute
import FoundationEssentials
import GPT
import OpenCLBackend

struct KernelsOptions: OptionGroup {
    let profile = Option("profile", Choice.names(OpenCLDeviceInfo.profileNames),
                         help: "device profile to list the programs for (no device needed)")
    let sources = Option("sources", .text("DIR"),
                         help: "also write each program's source, as the backend compiles it, to DIR/<program>.cl")
    let build = Option(onOff: "build", help: "build every program on this machine's OpenCL device and print build times")
    let device = CommonOptions.device()

    var all: [any AnyOption] { [profile, sources, build, device] }
}

let kernelsCommand = Command("kernels",
                             summary: "list (or build) the OpenCL programs and build options for a device profile or this device",
                             options: KernelsOptions.self) { options in
    let headSizes = Set(ModelConfig.presetNames.compactMap { try? ModelConfig.preset($0).headDim } + [128]).sorted()
    if options.build.value {
        guard options.profile.given == nil else {
            throw UsageError(command: "kernels", message: "--build uses this machine's device; drop --profile")
        }
        let backend = try OpenCLBackend(options: BackendOptions(device: options.device.given))
        // Only the matmul tiles this device picks: the rest would only cost build time here.
        let builds = OpenCLProgramPlan.builds(for: backend.deviceInfo, headSizes: headSizes, everyMatmul: false)
        print("device: \(backend.deviceDescription)")
        let seconds = try backend.build(builds)
        for (build, time) in zip(builds, seconds) {
            print("built \(build.program) [\(build.configuration)] in \(Format.fixed(time, 2)) s")
        }
        print("\(builds.count) programs built in \(Format.fixed(seconds.reduce(0, +), 1)) s")
        return
    }
    guard let name = options.profile.given, let device = OpenCLDeviceInfo.profile(named: name) else {
        throw UsageError(command: "kernels", message: "give --profile NAME or --build")
    }
    let builds = OpenCLProgramPlan.builds(for: device, headSizes: headSizes)
    if let directory = options.sources.given {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // One file per program: every build of a program compiles the same text (only options differ).
        let firstBuilds = Dictionary(builds.map { ($0.program, $0) }, uniquingKeysWith: { first, _ in first })
        for (program, build) in firstBuilds {
            let source = try build.source(kernelDirectory: OpenCLBackend.kernelDirectoryFromEnvironment)
            guard FileManager.default.createFile(atPath: "\(directory)/\(program).cl", contents: Data(source.utf8)) else {
                throw RuntimeError("cannot write \(directory)/\(program).cl")
            }
        }
    }
    for build in builds { print(build.jsonLine) }
}
