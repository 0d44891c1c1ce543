import Foundation
import PackagePlugin

/// Embeds `schemas/**/*.json` into the target as `EmbeddedSchemas.files`.
@main
struct EmbedSchemas: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL.appending(path: "schemas")
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)
        var inputs: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "json" { inputs.append(url) }
        }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchemas.swift")
        return [
            .buildCommand(
                displayName: "Embedding schemas/ into \(target.name)",
                executable: try context.tool(named: "SchemaEmbedder").url,
                arguments: [output.path, root.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
