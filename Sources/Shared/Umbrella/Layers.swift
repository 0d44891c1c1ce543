// `import Shared` brings every layer, so the workers, the CLI and the tests name one module.
@_exported import SwitchboardBase
@_exported import SwitchboardEvents
@_exported import SwitchboardGorgias
@_exported import SwitchboardHTTP
@_exported import SwitchboardKafka
@_exported import SwitchboardObservability
@_exported import SwitchboardRuntime
@_exported import SwitchboardSMS
@_exported import SwitchboardStore
