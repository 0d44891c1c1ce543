import Shared

await WorkerRuntime.main(OutboundWorker.definition)
