import WorkerKit

await WorkerRuntime.main(StatusWorker.definition)
