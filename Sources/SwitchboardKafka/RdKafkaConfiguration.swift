internal import Crdkafka
import Foundation
import SwitchboardBase

/// Builds an `rd_kafka_conf_t` from Switchboard defaults, then the operator's passthrough properties
/// (which win), then settings the runtime must own (which win over everything).
///
/// The returned pointer is owned by the caller until `rd_kafka_new` succeeds; on any error it is destroyed here.
enum RdKafkaConfiguration {
    struct Entry {
        var name: String
        var value: String
        var source: String
    }

    static func make(
        settings: KafkaSettings,
        defaults: [String: String],
        enforced: [String: String]
    ) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .unknown, reason: "rd_kafka_conf_new failed")
        }
        var entries: [Entry] = []
        if !settings.bootstrapServers.isEmpty {
            entries.append(Entry(name: "bootstrap.servers", value: settings.bootstrapServers, source: "KAFKA_BROKERS"))
        }
        entries += defaults.sorted { $0.key < $1.key }.map {
            Entry(name: $0.key, value: $0.value, source: "default \($0.key)")
        }
        entries += settings.properties.map { Entry(name: $0.name, value: $0.value, source: $0.source) }
        entries += enforced.sorted { $0.key < $1.key }.map {
            Entry(name: $0.key, value: $0.value, source: "runtime \($0.key)")
        }
        for entry in entries {
            var errorText = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, entry.name, entry.value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw ConfigurationError(setting: entry.source, reason: redact(CStringBuffer.string(errorText), entry))
            }
        }
        return conf
    }

    /// librdkafka's message quotes the rejected value; a secret-looking setting's value is masked.
    private static func redact(_ message: String, _ entry: Entry) -> String {
        guard KafkaSettings.Property.isSensitive(entry.name), !entry.value.isEmpty else { return message }
        return message.replacingOccurrences(of: entry.value, with: "***")
    }

    /// Renders librdkafka's error string for a code.
    static func describe(_ code: rd_kafka_resp_err_t) -> String {
        String(cString: rd_kafka_err2str(code))
    }
}
