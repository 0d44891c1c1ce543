import SwitchboardBase
internal import Crdkafka

/// A consumer group as its coordinator describes it: state and members with their partitions.
public struct GroupDescription: Sendable {
    public var group: String
    /// `Stable`, `PreparingRebalance`, `Empty`, `Dead`, …
    public var state: String
    public var members: [Member]

    public struct Member: Sendable {
        /// The member's `client.id` (the workers use `<group>-<host>-<pid>`).
        public var clientId: String
        public var host: String
        public var partitions: [TopicPartition]
    }
}

extension KafkaOffsetsReader {
    /// `group`'s state and members (ListGroups and DescribeGroups); nil when the cluster does not know the group.
    public func describe(group: String, timeout: Duration = .seconds(10)) throws -> GroupDescription? {
        var list: UnsafePointer<rd_kafka_group_list>?
        let result = rd_kafka_list_groups(handle, group, &list, Int32(timeout.milliseconds))
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let list else {
            throw KafkaError(result, "describe group \(group)")
        }
        defer { rd_kafka_group_list_destroy(list) }
        guard list.pointee.group_cnt > 0 else { return nil }
        let info = list.pointee.groups[0]
        guard info.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(info.err, "describe group \(group)") }
        let members = (0..<Int(info.member_cnt)).map { index in
            let member = info.members[index]
            let assignment = member.member_assignment.map {
                Array(UnsafeRawBufferPointer(start: $0, count: Int(member.member_assignment_size)))
            }
            return GroupDescription.Member(
                clientId: member.client_id.map { String(cString: $0) } ?? "",
                host: member.client_host.map { String(cString: $0) } ?? "",
                partitions: assignment.map(Self.assignedPartitions) ?? [])
        }
        return GroupDescription(
            group: group, state: info.state.map { String(cString: $0) } ?? "", members: members)
    }

    /// The partitions in a consumer protocol assignment (version, then per topic its name and partitions, all
    /// big-endian); what cannot be read ends the list.
    static func assignedPartitions(_ bytes: [UInt8]) -> [TopicPartition] {
        var reader = BigEndianReader(bytes: bytes)
        guard reader.int16() != nil, let topics = reader.int32(), topics >= 0 else { return [] }
        var partitions: [TopicPartition] = []
        for _ in 0..<topics {
            guard let length = reader.int16(), let name = reader.bytes(Int(length)), let count = reader.int32(),
                count >= 0
            else { break }
            let topic = String(decoding: name, as: UTF8.self)
            for _ in 0..<count {
                guard let partition = reader.int32() else { return partitions }
                partitions.append(TopicPartition(topic, partition))
            }
        }
        return partitions
    }

    /// Reads big-endian integers and byte runs, returning nil past the end.
    struct BigEndianReader {
        let bytes: [UInt8]
        var offset = 0

        mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
            guard count >= 0, offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        mutating func int16() -> Int16? {
            bytes(2).map { Int16(bitPattern: UInt16($0[$0.startIndex]) << 8 | UInt16($0[$0.startIndex + 1])) }
        }

        mutating func int32() -> Int32? {
            bytes(4).map { slice in Int32(bitPattern: slice.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }) }
        }
    }
}
