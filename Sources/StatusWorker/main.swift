import Shared

await WorkerRuntime.main(StatusWorker.definition)
