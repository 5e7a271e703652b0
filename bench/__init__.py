"""Benchmarks of the platform: cost per job on AWS, latency, throughput, slow agents, priority, cold start,
and the seeds' worker model side by side with ours. ``python -m bench.run`` (``make bench``); see README.md."""
