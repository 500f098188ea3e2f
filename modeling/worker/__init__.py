"""Worker-side adapters between jobs and the modeling core (imports torch: workers only).

``runner`` claims and runs a job, ``reporter`` writes its progress, ``dataset`` turns database
rows into in-memory tensors, ``train`` / ``analysis`` run the kinds of job, ``predict`` answers
interactive predictions with an LRU of loaded model versions.
"""
