"""Every name, path and tunable of the CDK app in one place.

What the platform *is* (functions, queues, routes, tables) is data in ``agent_jobs`` (``catalog``,
``repositories.tables``, ``settings``); this module only adds what is specific to deploying it.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from agent_jobs.catalog import DLQ_BATCH_SIZE, DLQ_MAX_CONCURRENCY, ROUTES
from agent_jobs.domain.auth import ADMIN_GROUP
from agent_jobs.observability import NAMESPACE, SERVICE
from agent_jobs.settings import Settings
from agent_jobs.workflow.definition import DEFINITION_FILE

# --- paths -------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
LAYER_DIR = ROOT / "layers" / "common"
LAYER_PACKAGE = "agent_jobs"  # copied to python/agent_jobs in the layer
LAYER_REQUIREMENTS = LAYER_DIR / "requirements.txt"
ASL_FILE = DEFINITION_FILE
CDK_JSON = ROOT / "cdk.json"
DEFAULT_OUTDIR = ROOT / "cdk.out"
ASSET_EXCLUDE = ["__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"]

# --- the stack ---------------------------------------------------------------------------------
STACK_ID = "AgentJobs"  # default stack name; context "stackName" overrides it
STACK_DESCRIPTION = "Agent Jobs: AI agents do jobs, an LLM judge checks them, humans approve the risky steps"

# --- context keys (cdk.json or `cdk deploy -c key=value`) ---------------------------------------
CTX_PROD = "prod"  # true: tables/user pool keep deletion protection and are retained on stack delete
CTX_STACK_NAME = "stackName"
CTX_OPENAI_MODEL = "openaiModel"
CTX_ALARM_EMAIL = "alarmEmail"
CTX_COGNITO_DOMAIN_PREFIX = "cognitoDomainPrefix"
CTX_EXTRA_CALLBACK_URLS = "adminCallbackUrls"  # comma-separated, e.g. for a local copy of the admin page
CTX_SKIP_BUNDLING = "aws:cdk:bundling-stacks"  # CDK's own key; [] skips bundling (unit tests)

# --- Lambda ------------------------------------------------------------------------------------
HANDLER = "handler.handler"
# 3.12: the interpreter the tests and the local stack run on, so the layer's wheels are cp312 too.
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
PYTHON_VERSION = RUNTIME.name.removeprefix("python")  # "3.12", for pip --python-version
PIP_PLATFORM = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}[ARCHITECTURE.name]
LOG_RETENTION_DEV = logs.RetentionDays.ONE_MONTH
LOG_RETENTION_PROD = logs.RetentionDays.THREE_MONTHS
ESM_DLQ_BATCH_SIZE = DLQ_BATCH_SIZE  # from agent_jobs.catalog: the local stack plays the same mappings
ESM_DLQ_MAX_CONCURRENCY = DLQ_MAX_CONCURRENCY
METRICS_MAX_EVENT_AGE_SECONDS = 120  # a late gauge run is worthless: the next one comes a minute later

# --- environment variable names ------------------------------------------------------------------


def env_name(setting: str) -> str:
    """The environment variable of a ``Settings`` field; fails loudly if the field does not exist."""
    if setting not in Settings.model_fields:
        raise KeyError(f"agent_jobs.settings.Settings has no field {setting!r}")
    return setting.upper()


ENV_STATE_MACHINE_ARN = env_name("checkpoint_state_machine_arn")
ENV_EXECUTE_FUNCTION_NAME = env_name("execute_function_name")
ENV_OPENAI_MODEL = env_name("openai_model")
ENV_OPENAI_SECRET_NAME = env_name("openai_api_key_secret_name")
DEFAULT_OPENAI_MODEL: str = Settings.model_fields["openai_model"].default
# Read by agent_jobs.api.admin_page (not Settings fields)
ENV_ADMIN_USER_POOL_ID = "ADMIN_USER_POOL_ID"
ENV_ADMIN_CLIENT_ID = "ADMIN_CLIENT_ID"
ENV_ADMIN_COGNITO_DOMAIN = "ADMIN_COGNITO_DOMAIN"
POWERTOOLS_ENV = {
    "POWERTOOLS_SERVICE_NAME": SERVICE,
    "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE,
}
METRICS_NAMESPACE = NAMESPACE
SERVICE_NAME = SERVICE

# --- queues ------------------------------------------------------------------------------------
VISIBILITY_TIMEOUT_FACTOR = 6  # AWS guidance for SQS event sources: 6x the function timeout
QUEUE_RETENTION_DAYS = 4
DLQ_RETENTION_DAYS = 14  # the maximum; a DLQ message's age counts from its first enqueue
# Queues the checkpoint wait machine sends to: its SQS tasks take QueueUrl from the execution input
# ($.checkpointQueueUrl: the checkpoint message and the expiry notice).
WORKFLOW_QUEUE_KEYS = ("checkpoint",)

# --- API and sign-in ---------------------------------------------------------------------------
ADMINS_GROUP = ADMIN_GROUP
ADMIN_PAGE_PATH = "/admin"
# The function serving the page (GET /admin and GET /admin/{file}), as catalog.ROUTES says.
ADMIN_PAGE_FUNCTION = next(route.function for route in ROUTES if route.path == ADMIN_PAGE_PATH)
API_THROTTLE_RATE = 50  # requests per second, steady state, for the whole stage
API_THROTTLE_BURST = 100
PASSWORD_MIN_LENGTH = 12
TEMP_PASSWORD_DAYS = 3
ACCESS_TOKEN_HOURS = 1
REFRESH_TOKEN_DAYS = 30

# --- secrets -----------------------------------------------------------------------------------
# The deploy creates the secret with this value; the operator puts the real key with
# `aws secretsmanager put-secret-value` (see infra/README.md). Redeploys leave the real key alone.
OPENAI_SECRET_PLACEHOLDER = "REPLACE-ME: aws secretsmanager put-secret-value"  # noqa: S105 - not a secret

# --- schedule ----------------------------------------------------------------------------------
GAUGE_SCHEDULE_MINUTES = 1
SCHEDULED_FUNCTION = "metrics"
