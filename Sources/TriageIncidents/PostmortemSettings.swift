import Foundation
import TriageChat
import TriageCore
import TriageHandlers

/// The `postmortems:` config section: where `/postmortem` and `triage postmortem` write.
///
/// ```yaml
/// postmortems:
///   directory: /var/lib/triage/postmortems
/// ```
/// (`postmortems: DIR` works too.) The default is `postmortems/` in the working directory.
public struct PostmortemSettings: Sendable, Equatable {
    public var directory: String

    public init(directory: String = "postmortems") {
        self.directory = directory
    }

    /// Reads the section; errors name the file and line.
    public init(node: YAMLNode?) throws {
        self.init()
        guard let node else { return }
        if node.isMapping {
            try node.checkKeys(["directory"])
            if let d = try node.string("directory") { directory = d }
        } else {
            directory = try node.string()
        }
        guard !directory.isEmpty else { throw node.error("postmortems.directory must not be empty") }
    }
}

extension TriageConfig {
    /// The `postmortems:` section, checked.
    public func postmortemSettings() throws -> PostmortemSettings {
        try PostmortemSettings(node: sections["postmortems"])
    }
}
