import Foundation
import Testing

/// The layers under `Sources/Shared` are modules, and `Package.swift` says which lies below which (SwiftPM refuses a
/// cycle). A file could still import a module its target does not declare — the compiler finds it in the build folder
/// when it happens to be built first — so this checks every import against the declared dependencies.
@Suite("Layer imports")
struct LayerImportsTests {
    struct Target {
        var name: String
        var directory: URL
        var excluded: [String]
        var dependencies: Set<String>
    }

    /// The package's own targets, read with `swift package dump-package` (a scratch path of its own, so a running
    /// `swift test` holding `.build` does not block it).
    static func targets() throws -> [Target] {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (status, output) = try DeploymentFilesTests.run(
            "/usr/bin/env", ["swift", "package", "--scratch-path", scratch.path, "dump-package"],
            in: DeploymentFilesTests.root)
        #expect(status == 0, "dump-package: \(output.prefix(500))")
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "dump-package printed JSON")
        let entries = try #require(manifest["targets"] as? [[String: Any]])
        return entries.compactMap { entry in
            guard let name = entry["name"] as? String, entry["type"] as? String != "system" else { return nil }
            let kind = entry["type"] as? String
            let defaultFolder = kind == "test" ? "Tests/\(name)" : "Sources/\(name)"
            let dependencies = (entry["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency in
                ((dependency["byName"] ?? dependency["target"]) as? [Any])?.first as? String
            }
            return Target(
                name: name,
                directory: URL(fileURLWithPath: DeploymentFilesTests.root).appendingPathComponent(
                    entry["path"] as? String ?? defaultFolder),
                excluded: entry["exclude"] as? [String] ?? [],
                dependencies: Set(dependencies)
            )
        }
    }

    /// The modules `directory`'s Swift files import, with the file that imports each first.
    static func imports(of target: Target) throws -> [String: String] {
        let importLine = try Regex(#"^(?:@\w+ |internal |public |package )*import (\w+)"#).anchorsMatchLineEndings()
        var found: [String: String] = [:]
        let files = FileManager.default.enumerator(at: target.directory, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            let relative = String(file.path.dropFirst(target.directory.path.count + 1))
            guard file.pathExtension == "swift",
                !target.excluded.contains(where: { relative == $0 || relative.hasPrefix($0 + "/") })
            else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: importLine) {
                if let module = match.output[1].substring { found[String(module), default: relative] = relative }
            }
        }
        return found
    }

    @Test("every module a source target imports from this package is one it declares in Package.swift")
    func importsMatchDeclaredLayers() throws {
        let targets = try Self.targets()
        let ours = Set(targets.map(\.name))
        let layers = targets.filter { $0.directory.path.contains("/Sources/Shared") }
        #expect(layers.count >= 10, "the layers were read: \(layers.map(\.name))")
        for target in targets where !target.directory.path.contains("/Tests/") {
            for (module, file) in try Self.imports(of: target) where ours.contains(module) && module != target.name {
                #expect(
                    target.dependencies.contains(module),
                    "\(target.name) imports \(module) (in \(file)) without declaring it in Package.swift")
            }
        }
        // The bottom layers stand alone: nothing of Switchboard's below the base, only the base below Kafka.
        let byName = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) })
        #expect(try #require(byName["SwitchboardBase"]).dependencies.isDisjoint(with: ours))
        #expect(try #require(byName["SwitchboardKafka"]).dependencies.intersection(ours) == ["SwitchboardBase"])
    }
}
