// The `gpt` command line: dispatches to one subcommand per file. Usage errors exit 64 with one line;
// runtime errors exit 1 with one clear line (never a stack trace). As one rank of a data-parallel
// run, the line names the rank, and the error ends every rank (DistributedRun.swift).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A runtime failure the CLI itself detects (as opposed to one thrown by a library).
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let commands = [
    backendsCommand, prepareCommand, trainCommand, generateCommand, plotCommand, conformanceCommand, benchCommand,
    profileCommand, kernelsCommand,
]

func topLevelHelp() -> String {
    let width = (commands.map(\.name.count).max() ?? 0) + 4
    var lines = ["gpt: train and run GPT language models on pluggable compute backends", "",
                 "Usage: gpt <command> [options]", "", "Commands:"]
    for command in commands {
        lines.append("  " + command.name + String(repeating: " ", count: width - command.name.count) + command.summary)
    }
    lines += ["", "Run `gpt <command> --help` for a command's flags and their defaults."]
    return lines.joined(separator: "\n")
}

func runMain() -> Int32 {
    Console.lineBufferStandardOutput()
    // Past `ulimit -f`, a write fails with EFBIG (reported like a full disk) instead of SIGXFSZ
    // killing the process with nothing said.
    signal(SIGXFSZ, SIG_IGN)
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard let name = arguments.first else {
        Console.error(topLevelHelp())
        return 64
    }
    arguments.removeFirst()
    if ["--help", "-h", "help"].contains(name) {
        print(topLevelHelp())
        return 0
    }
    guard let command = commands.first(where: { $0.name == name }) else {
        Console.error(UsageError(command: "", message: "unknown command '\(name)'").line)
        return 64
    }
    do {
        if try !command.run(arguments) { print(command.helpText) }
        return 0
    } catch let error as UsageError {
        Console.error(error.line)
        DistributedProcess.abortIfJoined(status: 64)
        return 64
    } catch {
        if Console.stdoutIsTerminal { Console.clearLine() }
        let message = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
        Console.error("gpt \(command.name): \(DistributedProcess.messagePrefix)\(message)")
        DistributedProcess.abortIfJoined(status: 1)
        return 1
    }
}

exit(runMain())
