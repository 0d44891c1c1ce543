import Foundation
import Testing

/// The layers are modules, and `Package.swift` says which lies below which (SwiftPM refuses a cycle). Each target
/// names exactly the modules of the package it imports — no umbrella that re-exports them all, no list of every
/// module — so a target's dependencies read as what it uses, and a file cannot use a module its target does not
/// declare (the compiler would find it in the build folder when it happens to be built first).
@Suite("Layer imports")
struct LayerImportsTests {
    struct Target {
        var name: String
        var kind: String
        var customPath: String?
        var directory: URL
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
            guard let name = entry["name"] as? String, let kind = entry["type"] as? String else { return nil }
            let customPath = entry["path"] as? String
            let defaultFolder = kind == "test" ? "Tests/\(name)" : "Sources/\(name)"
            let dependencies = (entry["dependencies"] as? [[String: Any]] ?? []).compactMap { dependency in
                ((dependency["byName"] ?? dependency["target"]) as? [Any])?.first as? String
            }
            return Target(
                name: name, kind: kind, customPath: customPath,
                directory: URL(fileURLWithPath: DeploymentFilesTests.root).appendingPathComponent(
                    customPath ?? defaultFolder),
                dependencies: Set(dependencies)
            )
        }
    }

    /// The modules `target`'s Swift files import, with the file that imports each first.
    static func imports(of target: Target) throws -> [String: String] {
        let importLine = try Regex(#"^(?:@\w+ |internal |public |package )*import (\w+)"#).anchorsMatchLineEndings()
        var found: [String: String] = [:]
        let files = FileManager.default.enumerator(at: target.directory, includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: importLine) {
                if let module = match.output[1].substring {
                    found[String(module), default: file.lastPathComponent] = file.lastPathComponent
                }
            }
        }
        return found
    }

    /// `name` and every target it depends on, directly or not.
    static func closure(of name: String, in byName: [String: Target]) -> Set<String> {
        var seen: Set<String> = []
        var next = [name]
        while let current = next.popLast() {
            guard seen.insert(current).inserted else { continue }
            next += byName[current]?.dependencies ?? []
        }
        return seen
    }

    @Test(
        "every target declares exactly the package's modules it imports, and nothing imports what it does not declare")
    func importsMatchDeclaredDependencies() throws {
        let targets = try Self.targets()
        let ours = Set(targets.map(\.name))
        #expect(targets.filter { $0.name.hasPrefix("Switchboard") && $0.kind == "regular" }.count >= 11)
        for target in targets where ["regular", "executable", "test"].contains(target.kind) {
            let imported = try Self.imports(of: target)
            let used = Set(imported.keys).intersection(ours).subtracting([target.name])
            for module in used.subtracting(target.dependencies) {
                Issue.record(
                    "\(target.name) imports \(module) (in \(imported[module] ?? "?")) without declaring it in Package.swift"
                )
            }
            for module in target.dependencies.intersection(ours).subtracting(used) {
                Issue.record("\(target.name) declares \(module) in Package.swift but never imports it")
            }
        }
    }

    @Test("no module re-exports another: each file imports the layers it uses")
    func noUmbrella() throws {
        for folder in ["Sources", "Tests"] {
            let root = URL(fileURLWithPath: DeploymentFilesTests.root).appendingPathComponent(folder)
            let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
            while let file = files?.nextObject() as? URL {
                guard file.pathExtension == "swift" else { continue }
                let text = try String(contentsOf: file, encoding: .utf8)
                #expect(
                    text.firstMatch(of: try Regex(#"(?m)^\s*@_exported\s+import"#)) == nil,
                    "\(file.path) re-exports a module")
            }
        }
    }

    @Test(
        "one folder per target, named as the target; the bottom layers stand alone and the HTTP client and the store never reach librdkafka"
    )
    func layering() throws {
        let targets = try Self.targets()
        let byName = Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0) })
        for target in targets where target.kind != "plugin" && target.name != "TestSupport" {
            #expect(target.customPath == nil, "\(target.name) lives in \(target.customPath ?? ""), not its own folder")
        }
        let ours = Set(targets.map(\.name))
        #expect(try #require(byName["SwitchboardBase"]).dependencies.isDisjoint(with: ours))
        #expect(try #require(byName["SwitchboardJSON"]).dependencies.isDisjoint(with: ours))
        #expect(
            try #require(byName["SwitchboardKafka"]).dependencies.intersection(ours) == ["SwitchboardBase", "Crdkafka"])
        #expect(
            try #require(byName["SwitchboardDomain"]).dependencies.intersection(ours)
                .isSubset(of: ["SwitchboardBase", "SwitchboardJSON"]))
        for layer in ["SwitchboardHTTP", "SwitchboardStore", "SwitchboardObservability", "SwitchboardDomain"] {
            let reached = Self.closure(of: layer, in: byName)
            #expect(
                reached.isDisjoint(with: ["Crdkafka", "SwitchboardKafka"]),
                "\(layer) reaches librdkafka through \(reached.sorted())")
        }
        // Developer tools and test fakes stay out of every product that is deployed or run by operators.
        for product in [
            "InboundWorker", "OutboundWorker", "StatusWorker", "IngressService", "ConsoleService",
            "SwitchboardCLI",
        ] {
            let reached = Self.closure(of: product, in: byName)
            #expect(
                reached.isDisjoint(with: ["KafkaMock", "TestKit", "Sandbox", "LocalFleet", "DevTools"]),
                "\(product) reaches \(reached.intersection(["KafkaMock", "TestKit", "Sandbox", "LocalFleet"]))")
        }
    }
}
