// What the CLI suites share: a fresh scratch directory per test, and the check that a command
// refused with exactly one line naming what was wrong.

import Foundation
import Testing

protocol CLISuite {}

extension CLISuite {
    /// A new directory under the fixture's folder, unique per call, so parallel tests never share
    /// an output path.
    static func scratch(_ name: String) throws -> String {
        let path = Fixture.shared.directory + "/\(name)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The run exited with `status` and printed one stderr line containing every fragment.
    static func expectOneLine(_ run: Run, status: Int32, _ fragments: String...,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == status, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderrLines.count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(run.stderr.contains(fragment), "\(run.stderr)", sourceLocation: sourceLocation)
        }
    }
}
