"""One Logger and Tracer for the whole package (Powertools).

Metrics have one path of their own, ``metrics_catalog.emit``: each metric event is one EMF document with the
dimension sets its catalog entry declares, written when it happens. A shared Powertools ``Metrics`` object
flushed by ``@metrics.log_metrics`` cannot carry that: one document has one value per dimension name (a
batch's jobs of two types, the gauges of five statuses) and one set of dimension sets for all its metrics;
it is process-wide state that concurrent batch records would mix; and a decorator nobody feeds only warns
"No application metrics to publish" on every invocation.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer

SERVICE = "agent-jobs"
NAMESPACE = "AgentJobs"  # the metrics' namespace (infra/ reads it here)

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
