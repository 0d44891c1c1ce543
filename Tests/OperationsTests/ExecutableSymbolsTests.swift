import Foundation
import Testing

import TestSupport

/// What each executable links: the mock cluster and the test fakes live in modules only the CLI and the tests use.
@Suite("Executable symbols")
struct ExecutableSymbolsTests {
    /// Every symbol `nm` lists for an executable built next to this test bundle (defined and undefined).
    func symbols(_ executable: String) throws -> String {
        let (status, output) = try DeploymentFilesTests.run("/usr/bin/nm", [WorkerProcess.binaries + "/" + executable])
        #expect(status == 0, "nm \(executable)")
        return output
    }

    @Test(
        "no worker executable carries librdkafka's mock cluster or the test fakes; the CLI, which runs the embedded broker, does"
    )
    func workersCarryNoMock() throws {
        for kind in WorkerProcess.Kind.allCases {
            let text = try symbols(kind.rawValue)
            #expect(text.contains("rd_kafka_consumer_poll"), "\(kind.rawValue) was read")
            #expect(!text.contains("rd_kafka_mock_"), "\(kind.rawValue) links librdkafka's mock cluster")
            #expect(!text.contains("7TestKit"), "\(kind.rawValue) links TestKit")
        }
        let cli = try symbols("switchboard")
        #expect(cli.contains("rd_kafka_mock_cluster_new") && cli.contains("7TestKit"))
    }
}
