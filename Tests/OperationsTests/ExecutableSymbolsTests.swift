import Foundation
import Testing
import LocalFleet
import TestSupport

/// What each executable links: librdkafka's mock cluster, the sandbox, the local fleet and the test fakes live in
/// modules only the developer tools and the tests use.
@Suite("Executable symbols")
struct ExecutableSymbolsTests {
    /// Every symbol `nm` lists for an executable built next to this test bundle (defined and undefined).
    func symbols(_ executable: String) throws -> String {
        let (status, output) = try DeploymentFilesTests.run("/usr/bin/nm", [WorkerProcess.binaries + "/" + executable])
        #expect(status == 0, "nm \(executable)")
        return output
    }

    /// Mangled module names: a symbol of a type or function of that module carries its name with its length.
    static let developerOnly = ["rd_kafka_mock_", "7TestKit", "7Sandbox", "10LocalFleet", "9KafkaMock", "8DevTools"]

    @Test(
        "no production executable (workers, ingress, console, operator CLI) carries the mock cluster, the sandbox, the local fleet or the test fakes; switchboard-dev does"
    )
    func productionCarriesNoDeveloperTool() throws {
        let production =
            WorkerProcess.Kind.allCases.map(\.rawValue)
            + [CLIProcess.Executable.ingress, .console, .operatorCLI].map(\.rawValue)
        for executable in production {
            let text = try symbols(executable)
            #expect(text.contains("rd_kafka_"), "\(executable) was read")
            for marker in Self.developerOnly {
                #expect(!text.contains(marker), "\(executable) links \(marker)")
            }
        }
        let dev = try symbols(CLIProcess.Executable.devTools.rawValue)
        for marker in ["rd_kafka_mock_cluster_new", "7TestKit", "7Sandbox", "10LocalFleet"] {
            #expect(dev.contains(marker), "switchboard-dev carries \(marker)")
        }
    }
}
