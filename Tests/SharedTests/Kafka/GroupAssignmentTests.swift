import Testing
@testable import SwitchboardKafka

/// The consumer protocol's assignment bytes, as DescribeGroups returns them for each member.
@Suite("Group member assignments")
struct GroupAssignmentTests {
    /// version 1; topics: "sms.inbound" [0, 3], "sms.consent" [2]; empty user data.
    static let assignment: [UInt8] =
        [0, 1, 0, 0, 0, 2]
        + [0, 11] + Array("sms.inbound".utf8) + [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3]
        + [0, 11] + Array("sms.consent".utf8) + [0, 0, 0, 1, 0, 0, 0, 2]
        + [0, 0, 0, 0]

    @Test("every assigned partition is read, big-endian")
    func decodes() {
        #expect(
            KafkaOffsetsReader.assignedPartitions(Self.assignment) == [
                TopicPartition("sms.inbound", 0), TopicPartition("sms.inbound", 3), TopicPartition("sms.consent", 2),
            ])
    }

    @Test("a truncated assignment yields what was complete, and garbage nothing")
    func truncated() {
        #expect(
            KafkaOffsetsReader.assignedPartitions(Array(Self.assignment.prefix(29)))
                == [TopicPartition("sms.inbound", 0)])
        #expect(KafkaOffsetsReader.assignedPartitions([0]).isEmpty)
        #expect(KafkaOffsetsReader.assignedPartitions([0, 1, 255, 255, 255, 255]).isEmpty, "a negative topic count")
    }
}
