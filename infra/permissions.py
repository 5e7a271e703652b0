"""What each function may touch, as data: the least-privilege matrix the Lambdas construct applies.

Consuming a queue (and its DLQ) is not listed: the event source mappings of ``catalog.QUEUES`` grant
exactly that to the queue's consumer. Everything else a function needs must be written here.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent_jobs.catalog import EXECUTE_QUEUE_KEYS, FUNCTIONS, QUEUES
from agent_jobs.repositories.tables import TABLES

TEMPLATES_TABLE = "templates_table"  # job templates: only the jobs API (create_job) reads or writes them
# The tables the job pipeline touches (Settings fields: jobs_table, job_logs_table, agents_table, ...)
ALL_TABLES = tuple(setting for setting in TABLES if setting != TEMPLATES_TABLE)
ALL_QUEUES = tuple(spec.key for spec in QUEUES)

START_EXECUTION = "states:StartExecution"
TASK_SUCCESS = "states:SendTaskSuccess"
TASK_FAILURE = "states:SendTaskFailure"
STOP_EXECUTION = "states:StopExecution"  # on the state machine's executions, not the machine itself
# Only the human waits run in Step Functions (one short execution each): whoever moves a job to a checkpoint
# starts its wait (StartExecution), whoever decides one ends it (SendTaskSuccess/SendTaskFailure).


@dataclass(frozen=True)
class FunctionAccess:
    read_tables: tuple[str, ...] = ()
    write_tables: tuple[str, ...] = ()  # implies read
    send_to: tuple[str, ...] = ()  # queue keys: sqs:SendMessage (+ GetQueueUrl/GetQueueAttributes)
    queue_attributes: tuple[str, ...] = ()  # queue keys: sqs:GetQueueAttributes on the queue and its DLQ
    state_machine_actions: tuple[str, ...] = ()  # on the checkpoint wait state machine
    execution_actions: tuple[str, ...] = ()  # on its executions (arn:…:execution:<machine>:*)
    reads_openai_secret: bool = False
    controls_execute_workers: bool = False  # enable/disable/read the execute queues' event source mappings
    replays_dead_letters: tuple[str, ...] = ()  # queue keys: peek into and replay the DLQ back to its queue
    puts_job_events: bool = False  # events:PutEvents on the job events bus (infra/job_events.py)
    posts_to_connections: bool = False  # execute-api:ManageConnections on the WebSocket stage (infra/realtime.py)


ACCESS: dict[str, FunctionAccess] = {
    # Jobs API: stores jobs and their logs, reads agents and checkpoints, queues work; cancel stops the job's
    # checkpoint waits and ends them through their tokens (SendTaskFailure) when stopping failed.
    "create_job": FunctionAccess(
        write_tables=(*ALL_TABLES, TEMPLATES_TABLE),  # + templates: their API, and jobs made from them
        send_to=(*EXECUTE_QUEUE_KEYS, "validate"),
        state_machine_actions=(TASK_FAILURE,),
        execution_actions=(STOP_EXECUTION,),
    ),
    # Calls agents; an answer that a human reviews before the judge starts that review's wait; a message for a
    # busy agent or user is sent again to its own execute queue, delayed (domain/concurrency.py).
    "execute_job": FunctionAccess(
        read_tables=("agents_table",),
        write_tables=("jobs_table", "job_logs_table", "agent_scores_table"),  # + the agent's scorecard counters
        send_to=("validate", *EXECUTE_QUEUE_KEYS),
        state_machine_actions=(START_EXECUTION,),
    ),
    # The judge, auto-assign and re-check: may resubmit (execute queues); a pass at a job type with a review
    # before completion starts that checkpoint's wait.
    "validate": FunctionAccess(
        write_tables=ALL_TABLES,
        send_to=EXECUTE_QUEUE_KEYS,
        state_machine_actions=(START_EXECUTION,),
        reads_openai_secret=True,
    ),
    # Checkpoint API and consumer: approve -> SendTaskSuccess and the job moved on (the next checkpoint's
    # StartExecution, the validate queue, or COMPLETED); reject -> SendTaskFailure; request changes ->
    # SendTaskFailure and the next attempt on the execute queues; a stale checkpoint message's wait is ended.
    "checkpoints": FunctionAccess(
        write_tables=ALL_TABLES,
        send_to=("validate", *EXECUTE_QUEUE_KEYS),  # callbacks and approvals hand jobs to the judge; changes rerun
        state_machine_actions=(TASK_SUCCESS, TASK_FAILURE, START_EXECUTION),
    ),
    # Stats, gauges, worker control and the sweeper (fails stuck jobs, expires checkpoints, logs why).
    # The sweeper re-sends lost execute/validate messages, delivers the checkpoint decisions Step Functions
    # missed (and moves an approved job on, as the checkpoints function would) and ends past-due waits.
    "metrics": FunctionAccess(
        read_tables=ALL_TABLES,
        write_tables=("jobs_table", "job_logs_table", "checkpoints_table", "agent_scores_table", "audit_table"),
        send_to=(*EXECUTE_QUEUE_KEYS, "validate"),
        queue_attributes=ALL_QUEUES,
        replays_dead_letters=ALL_QUEUES,  # GET /api/admin/dead-letters, POST …/replay (audited)
        state_machine_actions=(TASK_SUCCESS, TASK_FAILURE, START_EXECUTION),
        controls_execute_workers=True,
    ),
    # The jobs and checkpoints streams (read through its event source mappings): job events onto the bus.
    "events": FunctionAccess(
        puts_job_events=True,
        # ...and to the subscribers (domain/subscribers.py): webhook deliveries recorded and queued, real-time
        # frames posted to the listening connections (gone ones removed)
        read_tables=("webhooks_table",),
        write_tables=("webhook_deliveries_table", "realtime_table"),
        send_to=("webhooks",),
        posts_to_connections=True,
    ),
    # Webhook subscriptions API and the deliveries (the webhooks queue's consumer re-queues its retries).
    "webhooks": FunctionAccess(write_tables=("webhooks_table", "webhook_deliveries_table"), send_to=("webhooks",)),
    # The WebSocket API: connections and subscriptions; reads a job to check who may subscribe to it.
    "realtime": FunctionAccess(read_tables=("jobs_table",), write_tables=("realtime_table",)),
}

if set(ACCESS) != set(FUNCTIONS):
    raise RuntimeError(f"infra/permissions.py and catalog.FUNCTIONS disagree: {set(ACCESS) ^ set(FUNCTIONS)}")
